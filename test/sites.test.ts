import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from '../shared/local';
import { startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import { seedScopes, type SeededScopes } from '../simulator/tenant/scopeSeed';
import { scopesOf, type SimLibrary } from '../simulator/tenant/sites';
import type { TenantBackupReport } from '../shared/backup/m365/tenantBackup';

/**
 * SharePoint sites, Microsoft 365 groups and Teams through the whole product: the CLI backs up the
 * simulated tenant over HTTPS (real Graph SDK), the restore is compared with the simulator's state.
 */
const SHAPE = { users: 2, filesPerUser: 2, maxFileBytes: 20_000, messagesPerUser: 2, eventsPerUser: 1, contactsPerUser: 1 };
/** The Teams message limit scaled down (60 per 3 s instead of per minute), in the simulator and the product alike. */
const TEAMS_WINDOW_MS = 3000;
const ENV = { TEAMS_MESSAGES_WINDOW_MS: String(TEAMS_WINDOW_MS) };

const report = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as TenantBackupReport;

interface Expectation {
  /** Library files: restored path -> bytes and mtime. */
  files: Map<string, { data: Buffer; modified: string }>;
  /** List name -> item id -> fields. */
  lists: Map<string, Map<string, Record<string, unknown>>>;
  /** Channel folder -> message id -> author, time, text, image bytes. */
  channels: Map<string, Map<string, { author: string; created: string; html: string; images: Buffer[]; replyToId: string | null }>>;
  /** Group folder -> topic -> number of posts (and their bodies). */
  posts: Map<string, Map<string, string[]>>;
}

function libraryFiles(lib: SimLibrary, prefix: string, out: Expectation['files']): void {
  const pathOf = (id: string): string => {
    const i = lib.drive.get(id)!;
    return i.parentId && i.parentId !== lib.rootId ? `${pathOf(i.parentId)}/${i.name}` : i.name;
  };
  for (const i of lib.drive.values()) if (!i.folder) out.set(`${prefix}/${pathOf(i.id)}`, { data: i.content ?? Buffer.alloc(0), modified: i.modified });
}

function expectation(t: SuiteTenant): Expectation {
  const s = scopesOf(t.tenant);
  const e: Expectation = { files: new Map(), lists: new Map(), channels: new Map(), posts: new Map() };
  for (const site of s.sites.values()) {
    if (site.denied) continue;
    for (const lib of site.libraries) libraryFiles(lib, `Sites/${site.displayName}/${lib.user.displayName}`, e.files);
    for (const l of site.lists.values()) e.lists.set(`Sites/${site.displayName}/Lists/${l.displayName}`, new Map([...l.items.values()].map((i) => [i.id, { ...i.fields }])));
  }
  for (const team of s.teams.values()) {
    if (team.denied) continue;
    for (const c of team.channels.values()) {
      const msgs = new Map<string, { author: string; created: string; html: string; images: Buffer[]; replyToId: string | null }>();
      for (const m of c.messages.values()) if (!m.deleted) msgs.set(m.id, { author: m.from.displayName, created: m.created, html: m.html, images: [...m.hosted.values()].map((h) => h.data), replyToId: m.replyToId });
      e.channels.set(`Teams/${team.displayName}/${c.displayName}`, msgs);
    }
  }
  for (const g of s.groups.values()) {
    if (g.denied) continue;
    e.posts.set(`Groups/${g.displayName}`, new Map([...g.threads.values()].map((th) => [th.topic, [...th.posts.values()].map((p) => p.bodyHtml)])));
  }
  return e;
}

function assertScopesRestored(target: string, e: Expectation): void {
  for (const [path, f] of e.files) {
    const full = join(target, path);
    assert.ok(existsSync(full), `${path} is restored`);
    assert.ok(readFileSync(full).equals(f.data), `${path} is byte-identical`);
    assert.equal(statSync(full).mtime.toISOString(), new Date(f.modified).toISOString(), `${path} keeps its mtime`);
  }
  for (const [site, want] of [...new Set([...e.files.keys()].map((p) => p.split('/').slice(0, 2).join('/')))].map((s) => [s, [...e.files.keys()].filter((p) => p.startsWith(`${s}/`)).length] as const)) {
    const libs = readdirSync(join(target, site)).filter((n) => n !== 'Lists' && !n.startsWith('_'));
    const count = (dir: string): number => readdirSync(dir).reduce((n, x) => n + (statSync(join(dir, x)).isDirectory() ? count(join(dir, x)) : 1), 0);
    assert.equal(libs.reduce((n, l) => n + count(join(target, site, l)), 0), want, `${site}: exactly the library files, none twice, none left over`);
  }
  for (const [list, items] of e.lists) {
    const json = JSON.parse(readFileSync(join(target, `${list}.json`), 'utf8')) as { items: { id: string; fields: Record<string, unknown> }[] };
    assert.deepEqual(json.items.map((i) => i.id).sort(), [...items.keys()].sort(), `${list}: the same items`);
    for (const i of json.items) for (const [k, v] of Object.entries(items.get(i.id)!)) assert.deepEqual(i.fields[k], v, `${list} item ${i.id} field ${k}`);
    const csv = readFileSync(join(target, `${list}.csv`), 'utf8').trim().split('\r\n');
    assert.equal(csv.length, items.size + 1, `${list}.csv: a header and one row per item`);
  }
  for (const [channel, msgs] of e.channels) {
    const dir = join(target, channel);
    const files = existsSync(join(dir, 'messages')) ? readdirSync(join(dir, 'messages')) : [];
    assert.deepEqual(files.sort(), [...msgs.keys()].map((id) => `${id}.json`).sort(), `${channel}: every message and reply once`);
    const html = readFileSync(join(dir, 'transcript.html'), 'utf8');
    assert.ok(!/<script/i.test(html), `${channel}: the transcript carries no markup of a message`);
    for (const [id, m] of msgs) {
      const j = JSON.parse(readFileSync(join(dir, 'messages', `${id}.json`), 'utf8')) as { from: { user: { displayName: string } }; createdDateTime: string; replyToId: string | null };
      assert.equal(j.from.user.displayName, m.author, `${channel} ${id}: author`);
      assert.equal(j.createdDateTime, m.created, `${channel} ${id}: time`);
      assert.equal(j.replyToId, m.replyToId, `${channel} ${id}: thread`);
      assert.equal(html.split(`id="m${id}"`).length - 1, 1, `${channel} ${id}: once in the transcript`);
      m.images.forEach((img, n) => {
        const file = join(dir, 'images', `${id}-${n + 1}.png`);
        assert.ok(readFileSync(file).equals(img), `${channel} ${id}: inline image ${n + 1} byte-identical`);
        assert.ok(html.includes(`images/${id}-${n + 1}.png`), `${channel} ${id}: the transcript shows image ${n + 1}`);
      });
    }
    const images = existsSync(join(dir, 'images')) ? readdirSync(join(dir, 'images')).length : 0;
    assert.equal(images, [...msgs.values()].reduce((n, m) => n + m.images.length, 0), `${channel}: no stale image`);
  }
  for (const [group, threads] of e.posts) {
    for (const [topic, bodies] of threads) {
      const emls = readdirSync(join(target, group, topic)).filter((n) => n.endsWith('.eml'));
      assert.equal(emls.length, bodies.length, `${group}/${topic}: one .eml per post`);
      const texts = emls.map((n) => readFileSync(join(target, group, topic, n), 'utf8'));
      for (const b of bodies) assert.ok(texts.some((t) => t.includes(Buffer.from(b).toString('base64').slice(0, 40))), `${group}/${topic}: a post's body is restored`);
    }
  }
}

describe('SharePoint sites, groups and Teams (simulator over HTTPS, real Graph SDK)', () => {
  let suite: M365Suite;
  let t: SuiteTenant;
  let seeded: SeededScopes;
  let firstDone = '';
  let first: Expectation;
  const rnd = new SeededRandom(5);

  before(async () => {
    suite = await startM365Suite([{ name: 'northwind', seed: 71, shape: SHAPE }], { teamsLimits: { concurrency: 1_000_000, budget: 60, windowMs: TEAMS_WINDOW_MS } });
    t = suite.tenants.get('northwind')!;
    seeded = seedScopes(t.tenant);
    assert.equal((await suite.addTenant('northwind')).code, 0);
  });
  after(async () => {
    await suite?.stop();
  });

  test('backup --tenant backs up every site, group and team; one the app may not read is a listed, skipped scope', async () => {
    const r = await suite.cli(['backup', '--tenant', 'northwind', '--json'], t.password, ENV);
    assert.equal(r.code, 0, r.stderr);
    const rep = report(r.stdout);
    assert.equal(rep.status, 'complete', JSON.stringify(rep.users.flatMap((u) => u.services.filter((s) => s.status !== 'complete'))));
    const byName = new Map(rep.users.map((u) => [u.userPrincipalName, u]));
    assert.ok(byName.get(seeded.site.webUrl)?.services.some((s) => s.service === 'sharepoint' && s.items > 0), 'the team site is backed up');
    assert.ok(byName.get('Project Falcon')?.services.some((s) => s.service === 'teams' && s.items > 0), 'the team is backed up');
    assert.ok(byName.get(seeded.group.mail)?.services.some((s) => s.service === 'groups' && s.items > 0), 'the group is backed up');
    assert.match(byName.get(seeded.deniedSite.webUrl)?.skipped.join() ?? '', /may not read this site \(HTTP 403\)/);
    assert.match(byName.get('Legal')?.skipped.join() ?? '', /may not read this team \(HTTP 403\)/);
    assert.ok(!rep.users.some((u) => /-my\.sharepoint/.test(u.userPrincipalName)), 'personal (OneDrive) sites stay under onedrive');
    assert.equal(suite.sim.teamsThrottled(), 0, 'no 429 from the Teams message limit');
    firstDone = new Date().toISOString();
    first = expectation(t);
    const target = join(suite.work, 'scopes-full');
    const restore = await suite.cli(['restore', '--tenant', 'northwind', target], t.password);
    assert.equal(restore.code, 0, restore.stderr);
    assertScopesRestored(target, first);
    assert.ok(!existsSync(join(target, 'Sites', 'HR Confidential')), 'the skipped site has nothing restored');
    const perms = JSON.parse(readFileSync(join(target, 'Sites', 'Marketing', '_permissions.json'), 'utf8')) as { path: string; permissions: { roles: string[]; link?: unknown; grantedTo?: { email?: string } }[] }[];
    assert.deepEqual(perms.map((p) => p.path), ['Documents/Press kit/Press release – final.docx']);
    assert.equal(perms[0]!.permissions.length, 2);
    assert.ok(perms[0]!.permissions.some((p) => p.grantedTo?.email === 'pr@partner.example' && p.roles.includes('write')));
  });

  test('day two: the incremental fetches only the changes (counted at the simulator) and both points in time restore exactly', async () => {
    await new Promise((r) => setTimeout(r, 20));
    const { sites, groups, teams, site, group, team } = seeded;
    const docs = sites.library(site);
    sites.addFile(docs, 'Campaigns/2026/Q3 plan.docx', rnd.bytes(25_000));
    sites.modifyFile(docs, 'Campaigns/2026/Budget.xlsx', rnd.bytes(13_000));
    sites.deleteItem(docs, 'empty.txt');
    const list = sites.list(site, 'Campaigns');
    sites.addListItem(list, { Title: 'Winter sale', Status: 'Planned', Budget: 5000, Owner: 'New owner' });
    sites.updateListItem(list, '1', { Status: 'Archived' });
    sites.deleteListItem(list, '3');
    const general = teams.channel(team, 'General');
    const design = teams.channel(team, 'Design');
    const partners = teams.channel(team, 'Partners');
    const kickoff = [...general.messages.values()].find((m) => m.subject === 'Kickoff')!;
    const reply = [...general.messages.values()].find((m) => m.replyToId === kickoff.id && m.html.includes('I will be there'))!;
    teams.post(general, { from: { id: 'u9', displayName: 'Late Comer' }, html: '<p>Day two news</p>' });
    teams.post(general, { from: { id: 'u9', displayName: 'Late Comer' }, html: '<p>Count me in</p>', replyTo: kickoff.id });
    teams.delete(general, reply.id);
    teams.edit(design, [...design.messages.values()][0]!.id, '<p>Mock-ups, round two</p>' + [...design.messages.values()][0]!.html.slice([...design.messages.values()][0]!.html.indexOf('<img')));
    teams.post(partners, { from: { id: 'u9', displayName: 'Late Comer' }, html: '<p>New diagram</p>', images: [rnd.bytes(3_000)] });
    groups.reply([...group.threads.values()][0]!, { from: { name: 'Late Comer', address: 'late@northwind.example' }, receivedDateTime: new Date().toISOString(), bodyHtml: '<p>A new post on day two</p>', attachments: [] });

    suite.sim.resetStats();
    const r = await suite.cli(['backup', '--tenant', 'northwind', '--json'], t.password, ENV);
    assert.equal(r.code, 0, r.stderr);
    const req = (name: string) => suite.sim.stats.requests.get(name) ?? 0;
    assert.equal(req('download'), 2, 'only the new and the modified library file are downloaded');
    assert.equal(req('list.delta'), 1, 'one list delta page');
    assert.equal(suite.sim.stats.items.get('list.delta'), 3, 'the list delta holds the three changed items only');
    assert.equal(req('channel.messages'), 0, 'no channel is listed in full again');
    assert.equal(req('channel.delta'), 3, 'one delta page per channel');
    assert.equal(req('channel.replies'), 4, 'replies read again only for the four changed threads');
    assert.equal(req('channel.hostedContent'), 1, 'only the new inline image is fetched');
    assert.equal(req('group.posts'), 1, 'only the changed conversation is read');
    assert.equal(req('library.permissions'), 2, 'permissions asked for the two changed files only');
    const rep = report(r.stdout);
    assert.equal(rep.status, 'complete');
    const teamReport = rep.users.find((u) => u.userPrincipalName === 'Project Falcon')!.services[0]!;
    assert.equal(teamReport.removed, 1, 'the deleted reply is ended');
    for (const u of rep.users.filter((x) => x.userPrincipalName.includes('@') && !x.userPrincipalName.startsWith('allcompany'))) for (const s of u.services) assert.equal(s.fetched, 0, `${u.userPrincipalName} ${s.service} unchanged`);
    assert.equal(suite.sim.teamsThrottled(), 0, 'no 429 from the Teams message limit');

    const latest = join(suite.work, 'scopes-latest');
    assert.equal((await suite.cli(['restore', '--tenant', 'northwind', latest], t.password)).code, 0);
    assertScopesRestored(latest, expectation(t));
    const earlier = join(suite.work, 'scopes-earlier');
    const r2 = await suite.cli(['restore', '--tenant', 'northwind', '--at', firstDone, earlier], t.password);
    assert.equal(r2.code, 0, r2.stderr);
    assertScopesRestored(earlier, first);
  });

  test('a refused delta token (410) on libraries, lists and channel messages resyncs: no duplicates, deletions seen', async () => {
    const { sites, teams, site, team } = seeded;
    sites.addFile(sites.library(site, 'Brand assets'), 'Logos/logo-light.png', rnd.bytes(2_000));
    sites.deleteItem(sites.library(site, 'Brand assets'), 'Logos/logo-dark.png');
    sites.deleteListItem(sites.list(site, 'Campaigns'), '2');
    const general = teams.channel(team, 'General');
    teams.post(general, { from: { id: 'u9', displayName: 'Late Comer' }, html: '<p>During resync</p>' });
    suite.sim.expireScopeTokens(t.tenant, site.id);
    suite.sim.expireScopeTokens(t.tenant, team.id);
    const r = await suite.cli(['backup', '--tenant', 'northwind', '--service', 'sharepoint', '--service', 'teams', '--json'], t.password, ENV);
    assert.equal(r.code, 0, r.stderr);
    const rep = report(r.stdout);
    const siteReport = rep.users.find((u) => u.userPrincipalName === site.webUrl)!.services[0]!;
    const teamReport = rep.users.find((u) => u.userPrincipalName === 'Project Falcon')!.services[0]!;
    assert.equal(siteReport.resynced, 3, 'both libraries and the list resynced');
    assert.equal(teamReport.resynced, 3, 'every channel resynced');
    const s = scopesOf(t.tenant).sites.get(site.id)!;
    const files = s.libraries.reduce((n, l) => n + [...l.drive.values()].filter((i) => i.parentId).length, 0);
    // libraries + lists + drive items (roots included) + list items + the one shared file's permissions
    const expectedItems = s.libraries.length + s.lists.size + files + s.libraries.length + [...s.lists.values()].reduce((n, l) => n + l.items.size, 0) + 1;
    assert.equal(siteReport.items, expectedItems, 'no duplicates after the resync');
    const target = join(suite.work, 'scopes-resync');
    assert.equal((await suite.cli(['restore', '--tenant', 'northwind', target], t.password)).code, 0);
    assertScopesRestored(target, expectation(t));
  });

  test('restore --site, --team and --group restore only what they name', async () => {
    const target = join(suite.work, 'scopes-one');
    const r = await suite.cli(['restore', '--tenant', 'northwind', '--team', 'project falcon', '--site', seeded.site.webUrl, target], t.password);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(target).sort(), ['Sites', 'Teams']);
    assert.deepEqual(readdirSync(join(target, 'Sites')), ['Marketing']);
    assert.deepEqual(readdirSync(join(target, 'Teams')), ['Project Falcon']);
    const g = join(suite.work, 'scopes-group');
    assert.equal((await suite.cli(['restore', '--tenant', 'northwind', '--group', seeded.group.mail, g], t.password)).code, 0);
    assert.deepEqual(readdirSync(g), ['Groups']);
    const missing = await suite.cli(['restore', '--tenant', 'northwind', '--site', 'nosuchsite', join(suite.work, 'x')], t.password);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no backed-up site "nosuchsite"/);
  });
});
