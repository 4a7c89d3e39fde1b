import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { startM365Suite, type M365Suite } from './support/m365';
import { getJson, startFunctionsHost, waitForInstance, type FunctionsHostProcess } from './support/functionsHost';
import { AppServices } from '../shared/app/services';
import { loadSettings } from '../shared/config';
import { Lease, PRUNE_LEASE, ReaderLease, TENANT_RUN_LEASE, verifyRepository, type Repository } from '../shared/repo';
import { seal } from '../shared/crypto';
import { beginTenantRestore, endRestoreJob, planRestoreJob } from '../shared/restore/m365/restoreJob';

const shape = (users: number) => ({ users, filesPerUser: 1, maxFileBytes: 2_000, messagesPerUser: 2, eventsPerUser: 1, contactsPerUser: 1 });

/**
 * Every payload Durable stores for one run (orchestration inputs, outputs, custom status, activity
 * inputs and results, continueAsNew inputs), as the largest size seen per function and kind.
 */
function payloadSizes(stateDir: string, runId: string): Map<string, number> {
  const sizes = new Map<string, number>();
  const note = (key: string, v: unknown) => {
    const n = typeof v === 'string' ? Buffer.byteLength(v) : Buffer.byteLength(JSON.stringify(v ?? null));
    sizes.set(key, Math.max(sizes.get(key) ?? 0, n));
  };
  for (const f of readdirSync(stateDir)) {
    if (!decodeURIComponent(f).startsWith(runId)) continue;
    const inst = JSON.parse(readFileSync(join(stateDir, f), 'utf8')) as { name: string; input: unknown; output?: unknown; customStatus?: unknown; history: Record<string, unknown>[] };
    note(`${inst.name} input`, inst.input);
    note(`${inst.name} output`, inst.output);
    note(`${inst.name} custom status`, inst.customStatus);
    const names = new Map<number, string>();
    for (const e of inst.history) {
      if (typeof e.Name === 'string' && typeof e.EventId === 'number') names.set(e.EventId, e.Name);
      if (typeof e.Input === 'string') note(`${String(e.Name ?? inst.name)} input`, e.Input);
      if (typeof e.Result === 'string') note(`${names.get(Number(e.TaskScheduledId)) ?? '?'} result`, e.Result);
    }
  }
  return sizes;
}

describe('Function App runs leave a sealed repository: verify is clean, one run per tenant, payloads do not grow', () => {
  let suite: M365Suite;
  let host: FunctionsHostProcess;
  let stateDir: string;
  let services: AppServices;
  const repoOf = async (tenant: string): Promise<Repository> => (await services.tenant(tenant)).repo;
  const start = async (tenant: string) => {
    const r = await getJson(`${host.origin}/api/backups`, { method: 'POST', body: JSON.stringify({ tenant }) });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return (r.body.backups as { id: string }[])[0]!.id;
  };

  before(async () => {
    suite = await startM365Suite([
      { name: 'small', seed: 11, shape: shape(3) },
      { name: 'large', seed: 12, shape: shape(16) },
    ]);
    for (const t of ['small', 'large']) assert.equal((await suite.addTenant(t)).code, 0);
    stateDir = join(suite.work, 'durable');
    services = new AppServices(loadSettings(suite.processEnv()));
    host = await startFunctionsHost(suite.processEnv({ BACKUP_USER_PARALLELISM: '2' }), stateDir);
  });
  after(async () => {
    await host?.stop().catch(() => undefined);
    await suite?.stop();
  });

  test('no orchestration or activity payload grows with the number of users (3 vs 16 users)', async () => {
    const small = await start('small');
    const large = await start('large');
    for (const id of [small, large]) assert.equal((await waitForInstance(host.origin, id)).runtimeStatus, 'Completed');
    const a = payloadSizes(stateDir, small);
    const b = payloadSizes(stateDir, large);
    assert.ok(b.size >= 8, `payload kinds seen: ${[...b.keys()].join(', ')}`);
    for (const [key, size] of b) {
      // Counts gain digits; a list of users or their names would add ~100 bytes per user.
      const base = a.get(key) ?? 0;
      assert.ok(size <= base + 48, `${key}: ${base} bytes with 3 users, ${size} bytes with 16`);
    }
    const history = readFileSync(join(stateDir, `${encodeURIComponent(large)}.json`), 'utf8');
    for (const u of suite.tenants.get('large')!.tenant.users.values()) assert.ok(!history.includes(u.user.userPrincipalName), 'no UPN in Durable history');
  });

  test('verify after Function App runs reports nothing false', async () => {
    for (const t of ['small', 'large']) {
      const r = await verifyRepository(await repoOf(t));
      assert.deepEqual(r.issues, [], `${t}: ${JSON.stringify(r.issues.slice(0, 3))}`);
      assert.ok(r.runRecords > 0, 'the run logs were checked');
    }
  });

  test('verify while a restore is in progress (session and sealed plan in the restore area) reports nothing; an altered restore row is named', async () => {
    const repo = await repoOf('small');
    const key = await repo.unlock(suite.tenants.get('small')!.password);
    const job = { restoreId: 'restore-small-inprogress', ...(await beginTenantRestore(repo, key, { tenantName: 'small', services: ['onedrive', 'mail', 'calendar', 'contacts'] })) };
    await planRestoreJob(repo, job, { tenantName: 'small', services: ['onedrive', 'mail', 'calendar', 'contacts'] });
    const during = await verifyRepository(repo);
    assert.deepEqual(during.issues, []);
    assert.ok(during.restoreRows >= 2, `restore rows checked: ${during.restoreRows}`);
    const tables = suite.storage.tables;
    let row;
    for await (const r of tables.query(repo.layout.restoreTable, { filter: `PartitionKey eq 'session'` })) row = r;
    assert.ok(row);
    await tables.upsert(repo.layout.restoreTable, { ...row, expires: '2999-01-01T00:00:00.000Z' });
    assert.match((await verifyRepository(repo)).issues.map((i) => `${i.object}: ${i.problem}`).join('\n'), /restores row session\/\S+: was altered \(MAC mismatch\)/);
    await endRestoreJob(repo, job);
    assert.deepEqual((await verifyRepository(repo)).issues, [], 'the session row and plan are gone with the restore');
  });

  test('a second run of the same tenant while one holds the tenant-run lease is refused cleanly, naming the holder', async () => {
    const repo = await repoOf('small');
    const held = await Lease.acquire(repo, TENANT_RUN_LEASE, { owner: 'manual-other-run', ttlMs: 60_000, autoRenew: false });
    try {
      const id = await start('small');
      const done = await waitForInstance(host.origin, id);
      assert.equal(done.runtimeStatus, 'Completed');
      const out = done.output as { status: string; reason: string };
      assert.equal(out.status, 'refused');
      assert.match(out.reason, /already running: the lock is held by run manual-other-run on host \S+ \(pid \d+\)/);
      const cli = await suite.cli(['backup', '--tenant', 'small']);
      assert.equal(cli.code, 1, cli.stderr);
      assert.match(cli.stderr, /already running: the lock is held by run manual-other-run/);
    } finally {
      await held.release();
    }
    assert.equal(await Lease.holder(repo, TENANT_RUN_LEASE), undefined);
  });

  test('prune over HTTP: forget by the stored policy one directory page per activity, then prune; dry run, LOCKED, report, bad input', async () => {
    // Day 2: every user's OneDrive changes, so their onedrive partitions get a second snapshot.
    const small = suite.tenants.get('small')!;
    for (const u of small.tenant.users.values()) small.editor.addFile(u.user.userPrincipalName, `day2-${u.user.id.slice(0, 6)}.txt`, Buffer.from(`day 2 of ${u.user.id}`));
    const second = await start('small');
    assert.equal((await waitForInstance(host.origin, second)).runtimeStatus, 'Completed');
    const put = await getJson(`${host.origin}/api/tenants/small/policy`, { method: 'PUT', body: JSON.stringify({ version: 1, keep: { last: 1 } }) });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const prune = async (body: unknown) => {
      const r = await getJson(`${host.origin}/api/prune`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const id = String(r.body.id);
      assert.equal((await waitForInstance(host.origin, id)).runtimeStatus, 'Completed');
      return (await getJson(`${host.origin}/api/prune/${id}`)).body as { output: { partitions: number; kept: number; forgotten: number; prune: { dryRun: boolean; deadItemRows: number } }; progress: { phase: string } };
    };
    const snapshotsOf = async () => (await getJson(`${host.origin}/api/snapshots?tenant=small&limit=200`)).body;
    const before = JSON.stringify(await snapshotsOf());
    const dry = await prune({ tenant: 'small', dryRun: true });
    assert.equal(dry.progress.phase, 'done');
    assert.ok(dry.output.forgotten >= 3 && dry.output.partitions >= 3, JSON.stringify(dry.output));
    assert.equal(dry.output.prune.dryRun, true);
    assert.equal(JSON.stringify(await snapshotsOf()), before, 'a dry run changes nothing');

    const repo = await repoOf('small');
    const held = await Lease.acquire(repo, PRUNE_LEASE, { owner: 'another-prune', ttlMs: 60_000, autoRenew: false });
    try {
      const locked = await getJson(`${host.origin}/api/prune`, { method: 'POST', body: JSON.stringify({ tenant: 'small' }) });
      assert.equal(locked.status, 409, JSON.stringify(locked.body));
      assert.equal((locked.body.error as { code: string }).code, 'LOCKED');
      assert.match((locked.body.error as { message: string }).message, /A prune of tenant "small" is running/);
      // A restore started while prune runs is refused before anything starts (it could read packs prune deletes).
      const restore = await getJson(`${host.origin}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'small', password: suite.tenants.get('small')!.password }) });
      assert.equal(restore.status, 409, JSON.stringify(restore.body));
      assert.equal((restore.body.error as { code: string }).code, 'LOCKED');
      assert.match((restore.body.error as { message: string }).message, /A prune of this repository is running/);
    } finally {
      await held.release();
    }
    // And the other order: while a restore reads, a prune is refused (a dry run, which deletes nothing, is not).
    const reader = await ReaderLease.acquire(repo, { what: 'a restore', owner: 'restore:functions-test', ttlMs: 60_000 });
    try {
      const refused = await getJson(`${host.origin}/api/prune`, { method: 'POST', body: JSON.stringify({ tenant: 'small' }) });
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.match((refused.body.error as { message: string }).message, /A restore or verify is reading this repository/);
    } finally {
      await reader.release();
    }
    const done = await prune({ tenant: 'small', deleteEarly: true });
    assert.equal(done.output.forgotten, dry.output.forgotten, 'the run forgets what the dry run said');
    assert.deepEqual((await verifyRepository(repo)).issues, []);
    const again = await prune({ tenant: 'small' });
    assert.equal(again.output.forgotten, 0, 'nothing left to forget');

    const report = await getJson(`${host.origin}/api/report?tenant=small`);
    assert.equal(report.status, 200, JSON.stringify(report.body));
    const r = report.body as { users: number; services: Record<string, { snapshots: number; users: number }>; storage: { packs: { Cool: { blobs: number } }; monthlyCost: number } };
    assert.equal(r.users, 3);
    assert.equal(r.services.mail!.snapshots, r.services.mail!.users, 'one snapshot per partition is kept');
    assert.ok(r.storage.packs.Cool.blobs > 0 && r.storage.monthlyCost > 0, JSON.stringify(r.storage));

    const bad: [string, unknown, number, RegExp][] = [
      ['/api/prune', { tenant: 'nosuch' }, 404, /nosuch/],
      ['/api/prune', { tenant: 'small', dryRun: 'yes' }, 400, /"dryRun" must be true or false/],
      ['/api/prune', { tenant: 'small', keep: 3 }, 400, /keep/],
    ];
    for (const [path, body, status, re] of bad) {
      const res = await getJson(`${host.origin}${path}`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(String((res.body.error as { message?: string }).message), re);
    }
    assert.equal((await getJson(`${host.origin}/api/report?tenant=nosuch`)).status, 404);
    assert.equal((await getJson(`${host.origin}/api/report`)).status, 400);
  });

  test('a crashed run (host killed, its Durable state lost) leaves nothing that verify reports, and real tampering is named', async () => {
    const id = await start('large');
    for (let i = 0; i < 400; i++) {
      const s = await getJson(`${host.origin}/runtime/webhooks/durabletask/instances/${id}`);
      if (((s.body.customStatus as { usersDone?: number } | null)?.usersDone ?? 0) >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await host.kill();
    rmSync(stateDir, { recursive: true, force: true });
    host = await startFunctionsHost(suite.processEnv(), stateDir);
    const repo = await repoOf('large');
    const holder = await Lease.holder(repo, TENANT_RUN_LEASE);
    assert.equal(holder?.owner, id, 'the crashed run still holds the lease until it expires');
    assert.deepEqual((await verifyRepository(repo)).issues, []);
    await Lease.release(repo, TENANT_RUN_LEASE, id);

    // A run-log row as the first release wrote it (sealed body, no MAC) is still authentic.
    const legacyBody = seal(repo.keys.indexKey, Buffer.from(JSON.stringify({ legacy: true })), Buffer.from('run/legacy-run/run:x:mail:0001'));
    await suite.storage.tables.upsert(repo.layout.snapshotTable, { partitionKey: 'run.legacy-run', rowKey: 'run:x:mail:0001', body: legacyBody });
    assert.deepEqual((await verifyRepository(repo)).issues, []);

    // Tampering of a run-log record, a snapshot row and an unknown row are each named.
    const layout = repo.layout;
    const tables = suite.storage.tables;
    let runRow;
    for await (const r of tables.query(layout.snapshotTable, { filter: `PartitionKey ge 'run.' and PartitionKey lt 'run/'` })) {
      runRow = r;
      break;
    }
    assert.ok(runRow);
    const body = Buffer.from(runRow.body as Uint8Array);
    body[body.length - 1] ^= 1;
    await tables.upsert(layout.snapshotTable, { ...runRow, body });
    await tables.upsert(layout.snapshotTable, { partitionKey: 'evil', rowKey: 'x', note: 'planted' });
    const issues = (await verifyRepository(repo)).issues.map((i) => `${i.object}: ${i.problem}`).join('\n');
    assert.match(issues, new RegExp(`row ${runRow.partitionKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\S+: was altered \\(MAC mismatch\\)`));
    assert.match(issues, /row evil\/x: is not a row this program writes/);
  });
});
