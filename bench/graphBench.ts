/**
 * `npm run bench:graph`: m365-backup against the tenant simulator with 20 ms latency per request
 * and Outlook's per-mailbox limits enforced, three scenarios:
 *  1. mail: one mailbox, budget use of the per-mailbox request budget (10,000 per 10 minutes,
 *     scaled to the same rate over a shorter window so a run takes ~30 s) and messages per second;
 *  2. OneDrive: one user's large files, MB/s;
 *  3. 20 users backed up in parallel: peak RSS;
 *  4. SharePoint: one site's library of large files, MB/s;
 *  5. Teams: a day-two backup of 120 changed threads, share of Teams' message limit (60 per minute,
 *     scaled to 60 per 6 s) used, and 429s;
 *  6. a tenant of 20 sites and 10 teams: peak RSS.
 *  7-9. the same tenants restored back in place after a disaster (everything deleted): mail items
 *     per minute and budget share into one mailbox, OneDrive MB/s, peak RSS of the 20 users' restore.
 * Each scenario runs BENCH_TRIALS times (default 3) on a fresh repository; medians are printed.
 * BENCH_ONLY=mail,drive,many,sharepoint,teams,scopes runs only those scenarios (a restore row runs
 * after its backup: `BENCH_ONLY=many` is the 20 users' backup and restore, the restore RSS row).
 * BENCH_NODE_OPTIONS (e.g. `--require sampler.js`) and MALLOC_ARENA_MAX go to the 20 users' backup
 * and restore processes; their stderr lines starting with MEM are printed (for profiling).
 * BENCH_RESTORE_PARALLELISM (default 20) sets the 20 users' restore's M365_RESTORE_PARALLELISM.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite } from '../shared/local';
import { SeededRandom } from '../shared/local';
import { loopbackCertificate } from '../simulator/tls';
import { peakWindowUse, startGraphSimulator, type GraphSimulator } from '../simulator/graph/server';
import { generateTenant, type TenantShape } from '../simulator/tenant/generator';
import type { SimTenant } from '../simulator/tenant/model';
import { TenantEditor } from '../simulator/tenant/editor';
import { SiteEditor } from '../simulator/tenant/sites';
import { GroupEditor } from '../simulator/tenant/groups';
import { TeamEditor, type SimChannel } from '../simulator/tenant/teams';
import { measure, median } from './measure';

const CLI = join(__dirname, '..', 'cli', 'main.js');
const TRIALS = Number(process.env.BENCH_TRIALS ?? 3);
/** Outlook's 10,000 requests / 600 s, scaled to the same rate: 250 requests / 15 s. */
const BUDGET = 250;
const WINDOW_S = 15;
const MB = 1e6;
/** Teams' 60 message requests a minute, scaled to the same count over 6 s. */
const TEAMS_BUDGET = 60;
const TEAMS_WINDOW_S = 6;

/** Profiling settings passed to the 20 users' processes (see the header). */
const profiling = (): Record<string, string> => ({
  ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
  ...(process.env.MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX } : {}),
  ...(process.env.MEM_SAMPLES ? { MEM_SAMPLES: process.env.MEM_SAMPLES } : {}),
  ...(process.env.SLOTS_PATH ? { SLOTS_PATH: process.env.SLOTS_PATH } : {}),
});

interface Env {
  work: string;
  certFile: string;
  connectionString: string;
  sim: GraphSimulator;
}

/** The app has the write roles too: the restore scenarios write back with it. */
const ROLES = ['User.Read.All', 'Files.Read.All', 'Mail.Read', 'Calendars.Read', 'Contacts.Read', 'Files.ReadWrite.All', 'Mail.ReadWrite', 'Mail-Advanced.ReadWrite.All', 'Contacts.ReadWrite'];

function tenantOf(name: string, seed: number, shape: TenantShape): SimTenant {
  const { tenant } = generateTenant({ seed, tenantId: `${name}-tenant`, domain: `${name}.example`, shape });
  tenant.apps.push({ clientId: `${name}-app`, clientSecret: `${name}-secret`, roles: ROLES });
  return tenant;
}

function baseEnv(env: Env, tenant: SimTenant, trial: number, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_EXTRA_CA_CERTS: env.certFile,
    GRAPH_BASE_URL: `${env.sim.origin}/v1.0`,
    AZURE_AUTHORITY_HOST: env.sim.origin,
    AZURE_STORAGE_CONNECTION_STRING: env.connectionString,
    M365_BACKUP_DATA_DIR: join(env.work, 'data'),
    M365_BACKUP_REPOSITORY: `bench${tenant.domain.split('.')[0]}${trial}`,
    M365_BACKUP_KDF: 'test',
    M365_BACKUP_PASSWORD: 'bench-password-1',
    ...extra,
  };
}

/** Deletes every file, message and contact of the tenant (the disaster), then restores it in place with the CLI. */
async function restoreRun(env: Env, tenant: SimTenant, trial: number, services: string, extra: Record<string, string> = {}) {
  const editor = new TenantEditor(tenant);
  for (const u of tenant.users.values()) {
    for (const i of [...u.drive.values()]) if (!i.folder && u.drive.has(i.id)) editor.deleteDriveItem(u.user.id, editor.drivePath(u.user.id, i.id));
    for (const m of [...u.mailbox.messages.values()]) editor.deleteMessage(u.user.id, m.id);
    for (const c of [...u.mailbox.contacts.values()]) editor.deleteContact(u.user.id, c.id);
  }
  env.sim.resetStats();
  env.sim.limiter.reset();
  const name = tenant.domain.split('.')[0]!;
  const args = [CLI, 'restore', '--tenant', name, '--in-place', '--service', services, '--json', '--quiet'];
  // BENCH_RESTORE_WRAP (e.g. "heaptrack -o /tmp/x"): the restore runs under that profiler (its numbers are then the profiler's).
  const wrap = process.env.BENCH_RESTORE_WRAP?.split(' ').filter(Boolean) ?? [];
  const m = wrap.length > 0 ? await measure(wrap[0]!, [...wrap.slice(1), process.execPath, ...args], baseEnv(env, tenant, trial, extra)) : await measure(process.execPath, args, baseEnv(env, tenant, trial, extra));
  if (process.env.BENCH_NODE_OPTIONS) console.error(m.stderr.split('\n').filter((l) => l.startsWith('MEM')).join('\n'));
  if (m.code !== 0) throw new Error(`restore failed (${m.code}): ${m.stderr.slice(-2000)}`);
  const out = JSON.parse(m.stdout.trim().split('\n').at(-1)!) as { counts: { restored: number; failed: number }; parts: { service: string; counts: { restored: number } }[] };
  return { m, out };
}

async function run(env: Env, tenant: SimTenant, trial: number, extra: Record<string, string> = {}) {
  const repo = `bench${tenant.domain.split('.')[0]}${trial}`;
  const base = {
    PATH: process.env.PATH,
    NODE_EXTRA_CA_CERTS: env.certFile,
    GRAPH_BASE_URL: `${env.sim.origin}/v1.0`,
    AZURE_AUTHORITY_HOST: env.sim.origin,
    AZURE_STORAGE_CONNECTION_STRING: env.connectionString,
    M365_BACKUP_DATA_DIR: join(env.work, 'data'),
    M365_BACKUP_REPOSITORY: repo,
    M365_BACKUP_KDF: 'test',
    M365_BACKUP_PASSWORD: 'bench-password-1',
    ...extra,
  };
  const secretFile = join(env.work, `${tenant.domain}.secret`);
  writeFileSync(secretFile, tenant.apps[0]!.clientSecret!);
  const name = tenant.domain.split('.')[0]!;
  const add = await measure(process.execPath, [CLI, 'tenant', 'add', '--name', name, '--tenant-id', tenant.tenantId, '--client-id', tenant.apps[0]!.clientId, '--client-secret-file', secretFile], base);
  if (add.code !== 0) throw new Error(add.stderr);
  env.sim.resetStats();
  env.sim.limiter.reset(); // each trial starts with the mailbox's window empty, as after a quiet night
  const m = await measure(process.execPath, [CLI, 'backup', '--tenant', name, '--json', '--quiet'], base);
  if (process.env.BENCH_NODE_OPTIONS) console.error(m.stderr.split('\n').filter((l) => l.startsWith('MEM')).join('\n'));
  if (m.code !== 0) throw new Error(`backup failed (${m.code}): ${m.stderr.slice(-2000)}`);
  const report = JSON.parse(m.stdout.trim().split('\n').at(-1)!) as { status: string; totals: { fetched: number; fetchedBytes: number }; graph: { throttled: number }; peakRssMiB: number };
  return { m, report, base, name };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'm365b-graphbench-'));
  const certFile = join(work, 'cert.pem');
  const azurite = await startAzurite({ location: join(work, 'azurite') });
  // The simulator serves the tenants in this array; scenarios add theirs as they go.
  const tenants: SimTenant[] = [];
  const sim = await startGraphSimulator({ tenants, tls: await loopbackCertificate(certFile), latencyMs: 20, limits: { concurrency: 4, budget: BUDGET, windowMs: WINDOW_S * 1000 }, teamsLimits: { concurrency: 1_000_000, budget: TEAMS_BUDGET, windowMs: TEAMS_WINDOW_S * 1000 } });
  const TEAMS_ENV = { TEAMS_MESSAGES_WINDOW_MS: String(TEAMS_WINDOW_S * 1000) };
  const serve = (t: SimTenant) => tenants.push(t);
  const env: Env = { work, certFile, connectionString: azurite.connectionString, sim };
  try {
    const only = process.env.BENCH_ONLY;
    const skip = (k: string) => !!only && !only.split(',').includes(k);
    const mailRuns: { msgsPerS: number; share: number; throttled: number; clientThrottled: number }[] = [];
    const driveRuns: { mbPerS: number; bytes: number }[] = [];
    const manyRuns: { rss: number; wallS: number; bytes: number; items: number }[] = [];
    // 1. Mail: one mailbox of 600 small messages; ~620 requests need 2.5 windows of budget.
    const mail = tenantOf('mailbench', 1, { users: 1, filesPerUser: 0, maxFileBytes: 1, messagesPerUser: 600, eventsPerUser: 0, contactsPerUser: 0, withoutDrive: [0] });
    for (const m of mail.users.values().next().value!.mailbox.messages.values()) m.hasAttachments = false;
    serve(mail);
    for (let t = 0; t < (skip('mail') ? 0 : TRIALS); t++) {
      const { m, report } = await run(env, mail, t, { GRAPH_MAILBOX_BUDGET: `4,${BUDGET}/${WINDOW_S}` });
      const arrivals = [...sim.stats.mailboxArrivals.values()][0] ?? [];
      mailRuns.push({ msgsPerS: report.totals.fetched / (m.wallMs / 1000), share: peakWindowUse(arrivals, WINDOW_S * 1000) / BUDGET, throttled: sim.stats.throttled, clientThrottled: report.graph.throttled });
      if (report.status !== 'complete') throw new Error('mail run not complete');
    }

    // 2. OneDrive: one user, 40 files of 1-8 MB (random content: no compression or dedup help).
    const drive = tenantOf('drivebench', 2, { users: 1, filesPerUser: 0, maxFileBytes: 1, messagesPerUser: 0, eventsPerUser: 0, contactsPerUser: 0, withoutMailbox: [0] });
    const r = new SeededRandom(9);
    const upn = drive.users.values().next().value!.user.userPrincipalName;
    const editor = new TenantEditor(drive);
    for (let i = 0; i < 40; i++) editor.addFile(upn, `big/${i}.bin`, r.bytes(r.int(1, 8) * 1_000_000));
    serve(drive);
    for (let t = 0; t < (skip('drive') ? 0 : TRIALS); t++) {
      const { m, report } = await run(env, drive, t);
      driveRuns.push({ mbPerS: report.totals.fetchedBytes / MB / (m.wallMs / 1000), bytes: report.totals.fetchedBytes });
    }

    // 3. 20 users in parallel: files up to 6 MB and 60 messages each.
    const many = tenantOf('manybench', 3, { users: 20, filesPerUser: 15, maxFileBytes: 6_000_000, messagesPerUser: 60, eventsPerUser: 5, contactsPerUser: 5 });
    serve(many);
    for (let t = 0; t < (skip('many') ? 0 : TRIALS); t++) {
      const { m, report } = await run(env, many, t, { BACKUP_USER_PARALLELISM: '20', GRAPH_MAILBOX_BUDGET: `4,${BUDGET}/${WINDOW_S}`, ...profiling() });
      manyRuns.push({ rss: m.peakRssMiB, wallS: m.wallMs / 1000, bytes: report.totals.fetchedBytes, items: report.totals.fetched });
    }

    // 4. SharePoint: one site's library, 40 files of 1-8 MB (random content), nothing else in the tenant.
    const spRuns: { mbPerS: number }[] = [];
    const empty = { users: 1, filesPerUser: 0, maxFileBytes: 1, messagesPerUser: 0, eventsPerUser: 0, contactsPerUser: 0, withoutMailbox: [0], withoutDrive: [0] };
    const sp = tenantOf('spbench', 4, empty);
    const sites = new SiteEditor(sp);
    const lib = sites.library(sites.addSite({ name: 'bench', displayName: 'Bench' }));
    for (let i = 0; i < 40; i++) sites.addFile(lib, `big/${i}.bin`, r.bytes(r.int(1, 8) * 1_000_000));
    serve(sp);
    for (let t = 0; t < (skip('sharepoint') ? 0 : TRIALS); t++) {
      const { m, report } = await run(env, sp, t);
      spRuns.push({ mbPerS: report.totals.fetchedBytes / MB / (m.wallMs / 1000) });
    }

    // 5. Teams: 3 channels of 40 threads; the first backup lists them (not limited), then every thread gets a reply.
    const teamsRuns: { share: number; throttled: number; requests: number; perMin: number }[] = [];
    for (let t = 0; t < (skip('teams') ? 0 : TRIALS); t++) {
      const tt = tenantOf(`teamsbench${t}`, 5 + t, empty);
      const team = new TeamEditor(tt);
      const falcon = team.addTeam({ id: new GroupEditor(tt).addGroup({ displayName: 'Bench team', mailNickname: 'bench', isTeam: true }).id, displayName: 'Bench team' });
      const channels: SimChannel[] = [team.channel(falcon, 'General'), team.addChannel(falcon, 'Two', 'standard'), team.addChannel(falcon, 'Three', 'private')];
      for (const c of channels) for (let i = 0; i < 40; i++) team.post(c, { from: { id: 'a', displayName: 'Ann' }, html: `<p>thread ${i}</p>`, created: new Date(Date.UTC(2026, 4, 1, 8, i)).toISOString() });
      serve(tt);
      const { base, name } = await run(env, tt, t, TEAMS_ENV);
      for (const c of channels) for (const root of [...c.messages.values()].filter((x) => !x.replyToId)) team.post(c, { from: { id: 'b', displayName: 'Bob' }, html: '<p>reply</p>', replyTo: root.id });
      sim.resetStats();
      const before = { throttled: sim.teamsThrottled(), arrivals: sim.teamsArrivals().length };
      const m = await measure(process.execPath, [CLI, 'backup', '--tenant', name, '--service', 'teams', '--json', '--quiet'], { ...base, ...TEAMS_ENV });
      if (m.code !== 0) throw new Error(`teams backup failed: ${m.stderr.slice(-2000)}`);
      const arrivals = sim.teamsArrivals().slice(before.arrivals);
      const requests = arrivals.length;
      const span = (arrivals.at(-1)! - arrivals[0]!) / 1000;
      teamsRuns.push({ share: peakWindowUse(arrivals, TEAMS_WINDOW_S * 1000) / TEAMS_BUDGET, throttled: sim.teamsThrottled() - before.throttled, requests, perMin: ((requests - 1) / span) * TEAMS_WINDOW_S });
    }

    // 6. 20 sites (5 files up to 2 MB and a 50-item list each) and 10 teams (3 channels of 20 threads with 2 replies): peak RSS.
    const bigRuns: { rss: number; wallS: number; items: number }[] = [];
    const big = tenantOf('scopebench', 6, empty);
    const bs = new SiteEditor(big);
    for (let i = 0; i < 20; i++) {
      const site = bs.addSite({ name: `site${i}`, displayName: `Site ${i}` });
      for (let f = 0; f < 5; f++) bs.addFile(bs.library(site), `f${f}.bin`, r.bytes(r.int(1, 2_000_000)));
      const list = bs.addList(site, 'Tasks');
      for (let k = 0; k < 50; k++) bs.addListItem(list, { Title: `Task ${k}`, Done: k % 2 === 0 });
    }
    const bt = new TeamEditor(big);
    const bg = new GroupEditor(big);
    for (let i = 0; i < 10; i++) {
      const tm = bt.addTeam({ id: bg.addGroup({ displayName: `Team ${i}`, mailNickname: `team${i}`, isTeam: true }).id, displayName: `Team ${i}` });
      for (const c of [bt.channel(tm, 'General'), bt.addChannel(tm, 'B', 'standard'), bt.addChannel(tm, 'C', 'shared')])
        for (let k = 0; k < 20; k++) {
          const root = bt.post(c, { from: { id: 'a', displayName: 'Ann' }, html: `<p>${k}</p>`, created: new Date(Date.UTC(2026, 4, 1, 8, k)).toISOString() });
          for (let j = 0; j < 2; j++) bt.post(c, { from: { id: 'b', displayName: 'Bob' }, html: `<p>re ${j}</p>`, replyTo: root.id, created: new Date(Date.UTC(2026, 4, 1, 9, k, j)).toISOString() });
        }
    }
    serve(big);
    for (let t = 0; t < (skip('scopes') ? 0 : TRIALS); t++) {
      const { m, report } = await run(env, big, t, TEAMS_ENV);
      bigRuns.push({ rss: m.peakRssMiB, wallS: m.wallMs / 1000, items: report.totals.fetched });
    }

    // 7-9. Restores in place after a disaster, from each trial's own repository (its own restore map).
    const mailRestores: { perMin: number; share: number; throttled: number; failed: number }[] = [];
    const driveRestores: { mbPerS: number }[] = [];
    const manyRestores: { rss: number; wallS: number; items: number }[] = [];
    const mailbox = mail.users.values().next().value!.mailbox;
    const mails = [...mailbox.messages.values()].map((m) => ({ ...m }));
    for (let t = 0; t < mailRuns.length; t++) {
      const { m, out } = await restoreRun(env, mail, t, 'mail', { GRAPH_MAILBOX_BUDGET: `4,${BUDGET}/${WINDOW_S}` });
      const arrivals = [...sim.stats.mailboxArrivals.values()][0] ?? [];
      mailRestores.push({ perMin: out.counts.restored / (m.wallMs / 60_000), share: peakWindowUse(arrivals, WINDOW_S * 1000) / BUDGET, throttled: sim.stats.throttled, failed: out.counts.failed });
      if (mailbox.messages.size !== mails.length) throw new Error(`mail restore: ${mailbox.messages.size} of ${mails.length} messages back`);
    }
    const driveBytes = [...drive.users.values().next().value!.drive.values()].reduce((n, i) => n + (i.content?.length ?? 0), 0);
    for (let t = 0; t < driveRuns.length; t++) {
      const { m } = await restoreRun(env, drive, t, 'onedrive');
      driveRestores.push({ mbPerS: driveBytes / MB / (m.wallMs / 1000) });
    }
    for (let t = 0; t < manyRuns.length; t++) {
      const { m, out } = await restoreRun(env, many, t, 'onedrive,mail,contacts', { GRAPH_MAILBOX_BUDGET: `4,${BUDGET}/${WINDOW_S}`, M365_RESTORE_PARALLELISM: process.env.BENCH_RESTORE_PARALLELISM ?? '20', ...profiling() });
      manyRestores.push({ rss: m.peakRssMiB, wallS: m.wallMs / 1000, items: out.counts.restored });
    }

    const row = (k: string, v: string, target = '') => (v.startsWith('NaN') || v.startsWith('undefined') ? undefined : console.log(`| ${k} | ${v} | ${target} |`));
    console.log(`\nGraph benchmark: 20 ms latency per request, Outlook limits enforced (4 concurrent, ${BUDGET} requests per ${WINDOW_S} s = 10,000 per 10 min rate); ${TRIALS} trials, medians.\n`);
    console.log('| measure | median (trials) | target |');
    console.log('|---|---|---|');
    row('mail: messages per second, one mailbox', `${median(mailRuns.map((x) => x.msgsPerS)).toFixed(1)} (${mailRuns.map((x) => x.msgsPerS.toFixed(1)).join(', ')})`, `ceiling ${(BUDGET / WINDOW_S).toFixed(1)} requests/s`);
    row('mail: share of the request budget used (busiest window)', `${(median(mailRuns.map((x) => x.share)) * 100).toFixed(0)}% (${mailRuns.map((x) => (x.share * 100).toFixed(0) + '%').join(', ')})`, '>= 90%');
    row('mail: 429 answers from the limits (all retried)', `${median(mailRuns.map((x) => x.throttled))} (${mailRuns.map((x) => x.throttled).join(', ')})`, 'no unhandled 429');
    row('OneDrive: MB/s, one user', `${median(driveRuns.map((x) => x.mbPerS)).toFixed(1)} (${driveRuns.map((x) => x.mbPerS.toFixed(1)).join(', ')})`, '');
    row('20 users in parallel: peak RSS MiB', `${median(manyRuns.map((x) => x.rss))} (${manyRuns.map((x) => x.rss).join(', ')})`, '<= 512');
    row('SharePoint: library MB/s, one site', `${median(spRuns.map((x) => x.mbPerS)).toFixed(1)} (${spRuns.map((x) => x.mbPerS.toFixed(1)).join(', ')})`, '');
    row(`Teams: share of the message limit used (busiest window; ${TEAMS_BUDGET} per ${TEAMS_WINDOW_S} s = 60/min scaled)`, `${(median(teamsRuns.map((x) => x.share)) * 100).toFixed(0)}% (${teamsRuns.map((x) => (x.share * 100).toFixed(0) + '%').join(', ')})`, '>= 90%');
    row('Teams: message requests per minute, scaled to the real 60/min limit', `${median(teamsRuns.map((x) => x.perMin)).toFixed(1)} (${teamsRuns.map((x) => `${x.perMin.toFixed(1)} over ${x.requests}`).join(', ')})`, '<= 60');
    row('Teams: 429 answers from the message limit', `${median(teamsRuns.map((x) => x.throttled))} (${teamsRuns.map((x) => x.throttled).join(', ')})`, '0');
    row('20 sites + 10 teams: peak RSS MiB', `${median(bigRuns.map((x) => x.rss))} (${bigRuns.map((x) => x.rss).join(', ')})`, '<= 512');
    if (bigRuns.length) row('20 sites + 10 teams: wall s', `${median(bigRuns.map((x) => x.wallS)).toFixed(1)} (${bigRuns[0]!.items} items)`, '');
    row('restore: mail items per minute into one mailbox (importMime)', `${median(mailRestores.map((x) => x.perMin)).toFixed(0)} (${mailRestores.map((x) => x.perMin.toFixed(0)).join(', ')})`, '>= 300 (Microsoft 365 Backup: 200-300)');
    row('restore: mail share of the request budget used (busiest window)', `${(median(mailRestores.map((x) => x.share)) * 100).toFixed(0)}% (${mailRestores.map((x) => (x.share * 100).toFixed(0) + '%').join(', ')})`, '>= 90%');
    row('restore: mail 429 answers from the limits (all retried) / items failed', `${median(mailRestores.map((x) => x.throttled))} / ${median(mailRestores.map((x) => x.failed))}`, 'no unhandled 429');
    row('restore: OneDrive MB/s, one user (1-8 MB files)', `${median(driveRestores.map((x) => x.mbPerS)).toFixed(1)} (${driveRestores.map((x) => x.mbPerS.toFixed(1)).join(', ')})`, '');
    row('restore: 20 users in parallel, peak RSS MiB', `${median(manyRestores.map((x) => x.rss))} (${manyRestores.map((x) => x.rss).join(', ')})`, '<= 512');
    if (manyRestores.length) row('restore: 20 users in parallel, wall s', `${median(manyRestores.map((x) => x.wallS)).toFixed(1)} (${manyRestores[0]!.items} items)`, '');
    if (manyRuns.length) row('20 users in parallel: wall s', `${median(manyRuns.map((x) => x.wallS)).toFixed(1)} (${(manyRuns[0]!.bytes / MB).toFixed(0)} MB, ${manyRuns[0]!.items} items)`, '');
  } finally {
    await sim.stop();
    await azurite.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
