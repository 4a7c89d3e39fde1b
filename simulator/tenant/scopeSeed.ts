import { SeededRandom } from '../../shared/local';
import type { SimTenant } from './model';
import { GroupEditor, type SimGroup } from './groups';
import { SiteEditor, type SimSite } from './sites';
import { TeamEditor, type SimTeam } from './teams';

export interface SeededScopes {
  site: SimSite;
  /** The team's own site (its files live there, under sharepoint). */
  teamSite: SimSite;
  group: SimGroup;
  team: SimTeam;
  /** A site and a team the app may not read (403): listed, skipped scopes. */
  deniedSite: SimSite;
  deniedTeam: SimTeam;
  sites: SiteEditor;
  groups: GroupEditor;
  teams: TeamEditor;
}

/** A small PNG-like image (random bytes after a PNG signature: enough for byte-identical checks). */
const image = (r: SeededRandom, n: number) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), r.bytes(n)]);

/**
 * The tenant-level scopes of the demo and the tests: a team site with two libraries (nested
 * folders, a shared file) and a list, a Microsoft 365 group with conversations (one post with an
 * attachment), a team (standard, private and shared channels; messages with replies, inline
 * images, one older than the eight-month delta window) with its own site, plus a site and a team
 * the app may not read. Deterministic for a seed.
 */
export function seedScopes(tenant: SimTenant, seed = 7): SeededScopes {
  const r = new SeededRandom(seed);
  const sites = new SiteEditor(tenant);
  const groups = new GroupEditor(tenant);
  const teams = new TeamEditor(tenant);
  const people = [...tenant.users.values()].map((u) => ({ id: u.user.id, displayName: u.user.displayName, address: u.user.userPrincipalName }));
  const who = (i: number) => people[i % Math.max(1, people.length)] ?? { id: 'external', displayName: 'Someone', address: `someone@${tenant.domain}` };

  const site = sites.addSite({ name: 'marketing', displayName: 'Marketing' });
  const docs = sites.library(site);
  sites.addFile(docs, 'Campaigns/2026/Launch plan.docx', r.bytes(40_000), '2026-05-02T10:00:00.000Z');
  sites.addFile(docs, 'Campaigns/2026/Budget.xlsx', r.bytes(12_000), '2026-05-03T11:00:00.000Z');
  sites.addFile(docs, 'Brand guide.pdf', r.bytes(300_000), '2026-04-01T09:30:00.000Z');
  sites.addFile(docs, 'empty.txt', Buffer.alloc(0), '2026-04-02T09:30:00.000Z');
  const shared = sites.addFile(docs, 'Press kit/Press release – final.docx', r.bytes(9_000), '2026-05-10T08:00:00.000Z');
  sites.share(shared.id, { link: 'view' });
  sites.share(shared.id, { user: { displayName: 'Partner PR', email: 'pr@partner.example' }, roles: ['write'] });
  const assets = sites.addLibrary(site, 'Brand assets');
  sites.addFile(assets, 'Logos/logo.png', image(r, 5_000), '2026-03-01T12:00:00.000Z');
  sites.addFile(assets, 'Logos/logo-dark.png', image(r, 5_200), '2026-03-01T12:05:00.000Z');
  const campaigns = sites.addList(site, 'Campaigns');
  sites.addListItem(campaigns, { Title: 'Spring launch', Status: 'Done', Budget: 12000, Owner: who(0).displayName });
  sites.addListItem(campaigns, { Title: 'Summer "Sale", part 1', Status: 'Running', Budget: 8000.5, Owner: who(1).displayName });
  sites.addListItem(campaigns, { Title: 'Autumn teaser', Status: 'Planned', Budget: null, Owner: who(0).displayName });

  const group = groups.addGroup({ displayName: 'All Company', mailNickname: 'allcompany' });
  const t1 = groups.addThread(group, 'Welcome to the new intranet', { from: { name: who(0).displayName, address: who(0).address }, receivedDateTime: '2026-05-01T08:00:00Z', bodyHtml: '<p>Hello everyone &amp; welcome!</p>', attachments: [] });
  groups.reply(t1, { from: { name: who(1).displayName, address: who(1).address }, receivedDateTime: '2026-05-01T09:15:00Z', bodyHtml: '<p>Thanks, looks great.</p>', attachments: [{ id: tenant.newId(), name: 'screenshot.png', contentType: 'image/png', data: image(r, 3_000) }] });
  groups.addThread(group, 'Office closed on Friday', { from: { name: who(0).displayName, address: who(0).address }, receivedDateTime: '2026-05-20T16:00:00Z', bodyHtml: '<p>The office is closed this Friday.</p>', attachments: [] });

  const falcon = groups.addGroup({ displayName: 'Project Falcon', mailNickname: 'falcon', isTeam: true });
  const team = teams.addTeam({ id: falcon.id, displayName: 'Project Falcon' });
  const teamSite = sites.addSite({ name: 'falcon', displayName: 'Project Falcon', groupId: falcon.id });
  sites.addFile(sites.library(teamSite), 'General/Kickoff notes.docx', r.bytes(7_000), '2026-05-05T10:00:00.000Z');
  const general = teams.channel(team, 'General');
  const design = teams.addChannel(team, 'Design', 'private');
  const partners = teams.addChannel(team, 'Partners', 'shared');
  const old = teams.post(general, { from: who(0), html: '<p>First message of the project (older than eight months).</p>', created: '2025-01-15T09:00:00.000Z' });
  teams.post(general, { from: who(1), html: '<p>Welcome aboard!</p>', replyTo: old.id, created: '2025-01-15T09:05:00.000Z' });
  const kickoff = teams.post(general, { from: who(0), html: '<p>Kickoff is <b>Monday</b> &lt;10:00&gt;. See the plan:</p>', subject: 'Kickoff', created: '2026-05-05T09:00:00.000Z', images: [image(r, 4_000)] });
  teams.post(general, { from: who(1), html: '<p>Great, I will be there.</p>', replyTo: kickoff.id, created: '2026-05-05T09:10:00.000Z' });
  teams.post(general, { from: who(0), html: '<p>Here is the sketch</p>', replyTo: kickoff.id, created: '2026-05-05T09:20:00.000Z', images: [image(r, 2_500)] });
  teams.post(design, { from: who(1), html: '<p>Mock-ups, round one <script>alert(1)</script></p>', created: '2026-05-06T14:00:00.000Z', images: [image(r, 6_000), image(r, 1_000)] });
  teams.post(partners, { from: who(0), html: '<p>Shared with our partner org.</p>', created: '2026-05-07T15:00:00.000Z' });

  const deniedSite = sites.addSite({ name: 'hr', displayName: 'HR Confidential', denied: true });
  sites.addFile(sites.library(deniedSite), 'Salaries.xlsx', r.bytes(1_000));
  const legal = groups.addGroup({ displayName: 'Legal', mailNickname: 'legal', isTeam: true, denied: true });
  const deniedTeam = teams.addTeam({ id: legal.id, displayName: 'Legal', denied: true });
  return { site, teamSite, group, team, deniedSite, deniedTeam, sites, groups, teams };
}
