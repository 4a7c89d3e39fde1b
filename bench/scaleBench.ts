/**
 * `npm run bench:scale`: whole-tenant backups through the local Functions host (cli/serve.js, the
 * real durable-functions replay) against the tenant simulator and Azurite behind a counting proxy.
 * For each tenant size (BENCH_SIZES, default 100,500,1000 users; one small file, three messages,
 * one event and one contact each) a fresh repository gets a full run, then 1% of its items change
 * (new files and new messages, spread over the tenant) and an incremental run follows. Per run:
 * wall time, items/s, storage requests and bytes per user, Graph requests per user, Durable bytes
 * per user (what the host writes, counted as the Azure Storage provider would) and the host's peak
 * RSS. Then the ratios the scale targets use (issue "Scale"):
 *   per-user storage requests and Durable bytes at the largest size within 1.1x of the smallest;
 *   the 1% incremental's storage requests <= 5% and blob bytes written <= 2% of the full run's.
 * BENCH_TRIALS (default 3 for up to 100 users, 1 above) trials per size, medians printed.
 * BENCH_PARALLELISM overrides BACKUP_USER_PARALLELISM (default: the product's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { startAzurite, SeededRandom } from '../shared/local';
import { loopbackCertificate } from '../simulator/tls';
import { startGraphSimulator, type GraphSimulator } from '../simulator/graph/server';
import { generateTenant, scaleTenantShape } from '../simulator/tenant/generator';
import type { SimTenant } from '../simulator/tenant/model';
import type { TenantEditor } from '../simulator/tenant/editor';
import { measure, median } from './measure';
import { diffCounts, startCountingStorageProxy, type CountingStorageProxy, type StorageCounts } from './storageProxy';

const CLI = join(__dirname, '..', 'cli', 'main.js');
const SERVE = join(__dirname, '..', 'cli', 'serve.js');
const SIZES = (process.env.BENCH_SIZES ?? '100,500,1000').split(',').map((s) => Number(s.trim())).filter((n) => n > 0);
const trialsFor = (users: number) => Number(process.env.BENCH_TRIALS ?? (users <= 100 ? 3 : 1));
/** Share of items changed before the incremental run. */
const CHANGED = 0.01;
const RUN_TIMEOUT_MS = Number(process.env.BENCH_RUN_TIMEOUT_S ?? 3 * 3600) * 1000;

interface Env {
  work: string;
  certFile: string;
  sim: GraphSimulator;
  proxy: CountingStorageProxy;
  serve: (t: SimTenant) => void;
}

/** One run's figures (absolute; per-user figures are derived when printed). */
interface RunFigures {
  users: number;
  status: string;
  wallS: number;
  items: number;
  fetched: number;
  storage: StorageCounts;
  graphRequests: number;
  durableBytes: number;
  durableEvents: number;
  hostFileBytes: number;
}

const guid = (s: string) => {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

function productEnv(env: Env, repo: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) base[k] = process.env[k];
  return {
    ...base,
    NODE_EXTRA_CA_CERTS: env.certFile,
    GRAPH_BASE_URL: `${env.sim.origin}/v1.0`,
    AZURE_AUTHORITY_HOST: env.sim.origin,
    AZURE_STORAGE_CONNECTION_STRING: env.proxy.connectionString,
    M365_BACKUP_DATA_DIR: join(env.work, 'data'),
    M365_BACKUP_REPOSITORY: repo,
    M365_BACKUP_KDF: 'test',
    ...(process.env.BENCH_PARALLELISM ? { BACKUP_USER_PARALLELISM: process.env.BENCH_PARALLELISM } : {}),
    ...extra,
  };
}

interface Host {
  origin: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function startHost(env: NodeJS.ProcessEnv, stateDir: string): Promise<Host> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVE, '--state-dir', stateDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) resolve({ origin: m[1]!, child, stop: async () => (child.kill('SIGTERM'), await exited) });
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`the local host exited (${code}): ${out.slice(-2000)}`)));
  });
}

async function json(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

interface HostStats {
  durableBytes: number;
  historyEvents: number;
  fileBytes: number;
  peakRssMiB: number;
}
const hostStats = async (host: Host) => (await json(`${host.origin}/runtime/webhooks/durabletask/stats`)).body as unknown as HostStats;

/** One backup run of the tenant through the host's HTTP API, measured from start to final status. */
async function backupRun(env: Env, host: Host, tenant: string, users: number): Promise<RunFigures> {
  const storageBefore = env.proxy.counts();
  const hostBefore = await hostStats(host);
  env.sim.resetStats();
  const started = process.hrtime.bigint();
  const start = await json(`${host.origin}/api/backups`, { method: 'POST', body: JSON.stringify({ tenant }) });
  if (start.status !== 202) throw new Error(`starting the backup: ${start.status} ${JSON.stringify(start.body)}`);
  const id = (start.body.backups as { id: string }[])[0]!.id;
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  let done: Record<string, unknown>;
  for (;;) {
    const s = await json(`${host.origin}/runtime/webhooks/durabletask/instances/${encodeURIComponent(id)}`);
    if (['Completed', 'Failed', 'Terminated'].includes(String(s.body.runtimeStatus))) {
      done = s.body;
      break;
    }
    if (Date.now() > deadline) throw new Error(`run ${id} not finished after ${RUN_TIMEOUT_MS / 1000} s: ${JSON.stringify(s.body.customStatus)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  const hostAfter = await hostStats(host);
  const out = (done.output ?? {}) as { status?: string; totals?: { items: number; fetched: number; users: number } };
  if (done.runtimeStatus !== 'Completed') throw new Error(`run ${id} ended ${String(done.runtimeStatus)}: ${String(done.output).slice(0, 2000)}`);
  if (out.status !== 'complete') {
    // Say why (the first few services that did not complete), so a partial run is not just a word.
    const report = ((await json(`${host.origin}/api/backups/${encodeURIComponent(id)}`)).body.report ?? []) as { service: string; status: string; failed: number; failures?: { id: string; reason?: string; error?: string }[] }[];
    const bad = report.filter((r) => r.status !== 'complete');
    console.error(`run ${id}: ${bad.length} of ${report.length} services not complete, e.g. ${JSON.stringify(bad.slice(0, 3).map((r) => ({ service: r.service, status: r.status, failed: r.failed, failures: r.failures?.slice(0, 2) })))}`);
  }
  return {
    users,
    status: out.status ?? '?',
    wallS,
    items: out.totals?.items ?? 0,
    fetched: out.totals?.fetched ?? 0,
    storage: diffCounts(env.proxy.counts(), storageBefore),
    graphRequests: [...env.sim.stats.requests.values()].reduce((a, b) => a + b, 0),
    durableBytes: hostAfter.durableBytes - hostBefore.durableBytes,
    durableEvents: hostAfter.historyEvents - hostBefore.historyEvents,
    hostFileBytes: hostAfter.fileBytes - hostBefore.fileBytes,
  };
}

/** Changes `share` of the tenant's items, spread over its users: half new files, half new messages. */
function changeItems(tenant: SimTenant, editor: TenantEditor, share: number, seed: number): number {
  const users = [...tenant.users.values()];
  const items = users.reduce((n, u) => n + [...u.drive.values()].filter((i) => !i.folder).length + u.mailbox.messages.size + u.mailbox.events.size + u.mailbox.contacts.size, 0);
  const n = Math.max(1, Math.round(items * share));
  const r = new SeededRandom(seed);
  for (let j = 0; j < n; j++) {
    const u = users[(j * 97) % users.length]!.user;
    if (j % 2 === 0) editor.addFile(u.userPrincipalName, `changed/${j}.txt`, r.bytes(2048));
    else editor.addMessage(u.userPrincipalName, 'Inbox', { subject: `changed ${j}`, from: { name: 'Bench', address: 'bench@partner.example' }, to: [], text: `changed item ${j}`, received: new Date().toISOString() });
  }
  return n;
}

async function trial(env: Env, users: number, t: number): Promise<{ full: RunFigures; incr: RunFigures; changed: number; peakRssMiB: number }> {
  const name = `scale${users}t${t}`;
  const { tenant, editor } = generateTenant({ seed: 1000 + users + t, tenantId: guid(name), domain: `${name}.example`, shape: scaleTenantShape(users) });
  const secret = `bench-secret-${randomBytes(8).toString('hex')}`;
  tenant.apps.push({ clientId: guid(`app-${name}`), clientSecret: secret });
  env.serve(tenant);
  const repo = `bench${name}`;
  const secretFile = join(env.work, `${name}.secret`);
  writeFileSync(secretFile, secret);
  const add = await measure(process.execPath, [CLI, 'tenant', 'add', '--name', name, '--tenant-id', tenant.tenantId, '--client-id', tenant.apps[0]!.clientId, '--client-secret-file', secretFile], productEnv(env, repo, { M365_BACKUP_PASSWORD: `pw-${name}` }));
  if (add.code !== 0) throw new Error(`tenant add: ${add.stderr}`);
  const stateDir = join(env.work, `durable-${name}`);
  const host = await startHost(productEnv(env, repo), stateDir);
  try {
    const full = await backupRun(env, host, name, users);
    console.error(`${users} users, trial ${t + 1}, full: ${JSON.stringify({ ...full, storage: { ...full.storage, kinds: undefined } })}`);
    const changed = changeItems(tenant, editor, CHANGED, users + t);
    const incr = await backupRun(env, host, name, users);
    console.error(`${users} users, trial ${t + 1}, incremental: ${JSON.stringify({ ...incr, storage: { ...incr.storage, kinds: undefined } })}`);
    console.error(`${users} users, trial ${t + 1}, incremental storage requests per user by kind:\n${kindsPerUser(incr)}`);
    const peakRssMiB = (await hostStats(host)).peakRssMiB;
    return { full, incr, changed, peakRssMiB };
  } finally {
    await host.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** The run's storage requests by kind (bench/storageProxy.ts), per user, most first. */
const kindsPerUser = (f: RunFigures) =>
  Object.entries(f.storage.kinds)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `  ${(n / f.users).toFixed(2).padStart(7)}  ${k}`)
    .join('\n');

const storageRequests = (f: RunFigures) => f.storage.blob.requests + f.storage.table.requests;
const storageBytes = (f: RunFigures) => f.storage.blob.bytesRead + f.storage.blob.bytesWritten + f.storage.table.bytesRead + f.storage.table.bytesWritten;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'm365b-scalebench-'));
  const certFile = join(work, 'cert.pem');
  const azurite = await startAzurite({ location: join(work, 'azurite') });
  const proxy = await startCountingStorageProxy(azurite.blobPort, azurite.tablePort);
  const tenants: SimTenant[] = [];
  const sim = await startGraphSimulator({ tenants, tls: await loopbackCertificate(certFile) });
  const env: Env = { work, certFile, sim, proxy, serve: (t) => tenants.push(t) };
  type Row = { users: number; trials: number; full: RunFigures[]; incr: RunFigures[]; changed: number; rss: number[] };
  const rows: Row[] = [];
  try {
    for (const users of SIZES) {
      const row: Row = { users, trials: trialsFor(users), full: [], incr: [], changed: 0, rss: [] };
      for (let t = 0; t < row.trials; t++) {
        const r = await trial(env, users, t);
        row.full.push(r.full);
        row.incr.push(r.incr);
        row.changed = r.changed;
        row.rss.push(r.peakRssMiB);
        console.error(`${users} users, trial ${t + 1}/${row.trials}: full ${r.full.wallS.toFixed(1)} s (${r.full.status}), incremental ${r.incr.wallS.toFixed(1)} s (${r.incr.status}), host peak RSS ${r.peakRssMiB} MiB`);
      }
      rows.push(row);
    }
  } finally {
    await sim.stop();
    await proxy.stop();
    await azurite.stop();
    rmSync(work, { recursive: true, force: true });
  }

  const med = (xs: RunFigures[], f: (x: RunFigures) => number) => median(xs.map(f));
  const perUser = (xs: RunFigures[], f: (x: RunFigures) => number) => med(xs, (x) => f(x) / x.users);
  const kb = (n: number) => (n / 1024).toFixed(1);
  console.log(`\nScale benchmark: local Functions host, tenant simulator (no latency), Azurite behind a counting proxy; parallelism ${process.env.BENCH_PARALLELISM ?? 'default (BACKUP_USER_PARALLELISM)'}.`);
  console.log('Tenants: one small file (2 KiB), three messages, one event, one contact per user; the incremental follows a change of 1% of the items.\n');
  console.log('| users | run | trials | wall s | items/s | storage req/user | storage KiB/user | blob KiB written/user | Graph req/user | Durable KiB/user | Durable events/user | host peak RSS MiB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    for (const [label, xs] of [['full', r.full], [`1% incr. (${r.changed} items)`, r.incr]] as const) {
      console.log(
        `| ${r.users} | ${label} | ${r.trials} | ${med(xs, (x) => x.wallS).toFixed(1)} | ${med(xs, (x) => x.items / x.wallS).toFixed(0)} | ${perUser(xs, storageRequests).toFixed(1)} | ${kb(perUser(xs, storageBytes))} | ${kb(perUser(xs, (x) => x.storage.blob.bytesWritten))} | ${perUser(xs, (x) => x.graphRequests).toFixed(1)} | ${kb(perUser(xs, (x) => x.durableBytes))} | ${perUser(xs, (x) => x.durableEvents).toFixed(1)} | ${label === 'full' ? median(r.rss) : ''} |`,
      );
    }
  }
  for (const r of rows) {
    const x = r.incr[0]!;
    console.log(`\n${r.users} users, 1% incremental (trial 1): storage requests per user by kind (table requests/user ${(x.storage.table.requests / x.users).toFixed(1)}):\n${kindsPerUser(x)}`);
  }
  console.log('\n| ratio | value | target |');
  console.log('|---|---|---|');
  if (rows.length >= 2) {
    const a = rows[0]!;
    const b = rows.at(-1)!;
    console.log(`| storage requests per user, ${b.users} vs ${a.users} users (full) | ${(perUser(b.full, storageRequests) / perUser(a.full, storageRequests)).toFixed(2)}x | <= 1.1x |`);
    console.log(`| Durable bytes per user, ${b.users} vs ${a.users} users (full) | ${(perUser(b.full, (x) => x.durableBytes) / perUser(a.full, (x) => x.durableBytes)).toFixed(2)}x | <= 1.1x |`);
  }
  for (const r of rows) {
    console.log(`| ${r.users} users: 1% incremental's storage requests / full's | ${((100 * med(r.incr, storageRequests)) / med(r.full, storageRequests)).toFixed(1)}% | <= 5% |`);
    console.log(`| ${r.users} users: 1% incremental's blob bytes written / full's | ${((100 * med(r.incr, (x) => x.storage.blob.bytesWritten)) / med(r.full, (x) => x.storage.blob.bytesWritten)).toFixed(1)}% | <= 2% |`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
