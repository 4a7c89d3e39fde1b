import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestRepository, type TestRepository } from './support/repository';
import { startM365Suite, type M365Suite } from './support/m365';
import { getJson, startFunctionsHost, waitForInstance, type FunctionsHostProcess } from './support/functionsHost';
import { installFunctionsCore, LocalDurableHost } from '../shared/local/durable';
import { Catalog, verifyRepository, type Repository as Repo } from '../shared/repo';
import type { StoredRow } from '../shared/storage';
import { AppServices } from '../shared/app/services';
import { loadSettings } from '../shared/config';
import { DEFAULT_SERVICES, directoryPartition, emptyTotals, type DirectoryUser } from '../shared/m365';
import { lastRun, readRunReportPage, recordServiceOutcome, recordUnchangedOutcomes, RosterWriter, rosterUser, tenantDirectory } from '../shared/backup/m365/runRecords';
import { directoryUsers } from '../shared/restore/m365/restoreTenant';
import { listTenantSnapshotsPage } from '../shared/browse';

/**
 * Issue 9, "nothing grows with the tenant in one place": the tenant directory and run reports are
 * rows per user, orchestrations carry counts and indexes. Proven with synthetic 10,000- and
 * 50,000-user tenants (payloads under 16 KB, every row under Table Storage's limits) and a real
 * 400-user run through the local Functions host (which failed with PropertyValueTooLarge before).
 */

const PAYLOAD_LIMIT = 16 * 1024;
const PROPERTY_LIMIT = 64 * 1024;
const ENTITY_LIMIT = 1024 * 1024;

/** Table Storage's sizes of a row: each property (strings count 2 bytes a character) and the whole entity. */
function rowSizes(r: StoredRow): { largestProperty: number; entity: number } {
  let largest = 0;
  let entity = 4 + 2 * (r.partitionKey.length + r.rowKey.length);
  for (const [k, v] of Object.entries(r)) {
    if (k === 'partitionKey' || k === 'rowKey' || k === 'etag') continue;
    const n = v instanceof Uint8Array ? v.length : typeof v === 'string' ? 2 * v.length : 8;
    largest = Math.max(largest, n);
    entity += 8 + 2 * k.length + n;
  }
  return { largestProperty: largest, entity };
}

async function assertRowsWithinLimits(repo: Repo): Promise<{ rows: number; largestProperty: number; largestEntity: number }> {
  const out = { rows: 0, largestProperty: 0, largestEntity: 0 };
  for (const table of [repo.layout.snapshotTable, repo.layout.configTable]) {
    for await (const r of repo.tables.query(table)) {
      const s = rowSizes(r);
      out.rows++;
      out.largestProperty = Math.max(out.largestProperty, s.largestProperty);
      out.largestEntity = Math.max(out.largestEntity, s.entity);
    }
  }
  assert.ok(out.largestProperty < PROPERTY_LIMIT, `largest property ${out.largestProperty} bytes`);
  assert.ok(out.largestEntity < ENTITY_LIMIT, `largest entity ${out.largestEntity} bytes`);
  return out;
}

const guid = (i: number) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-${(i * 7919).toString(16).padStart(12, '0').slice(-12)}`;
const syntheticUser = (i: number, probed: string): DirectoryUser => ({
  id: guid(i),
  userPrincipalName: `user.${i}.with-a-realistically-long-name@contoso-international.example`,
  displayName: `User Number ${i} of the Synthetic Tenant`,
  services: i % 3 === 0 ? [] : ['onedrive', 'mail', 'calendar', 'contacts'],
  probed,
  hasMail: i % 3 !== 0,
});

describe('orchestrations of a 10,000- and a 50,000-user run carry counts only (every payload < 16 KB)', () => {
  installFunctionsCore();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const df = require('durable-functions') as typeof import('durable-functions');
  let users = 0;
  // The activities are stand-ins (the orchestrators are the product's): a roster of `users`, a few
  // users with a service, every unit a small outcome.
  df.app.activity('beginBackupRun', { handler: () => ({ users }) });
  df.app.activity('userServices', { handler: (i: { index: number }) => (i.index % 997 === 0 ? ['onedrive'] : []) });
  df.app.activity('backupUserService', {
    handler: (i: { service: string }) => ({ service: i.service, status: 'complete', snapshot: 12, items: 123_456, fetched: 12_345, fetchedBytes: 9_876_543_210, removed: 3, failed: 0, more: false }),
  });
  df.app.activity('finishBackupRun', { handler: () => ({ status: 'complete' }) });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../functions/backupOrchestrators');

  const run = async (n: number, input: Record<string, unknown>) => {
    users = n;
    const sizes = new Map<string, number>();
    const host = new LocalDurableHost({ clock: 'virtual', maxPayloadBytes: PAYLOAD_LIMIT, maxConcurrentActivities: 64, onPayload: (what, bytes) => {
      const kind = what.replace(/ of .*:u\d+$/, '').replace(/\d+/g, '#');
      sizes.set(kind, Math.max(sizes.get(kind) ?? 0, bytes));
    } });
    const id = await host.startNew('backupTenant', { instanceId: `scale-${n}-${input.offset ?? 0}`, input: { tenant: 'synthetic', services: [...DEFAULT_SERVICES], parallelism: 16, ...input } });
    const status = await host.waitForCompletion(id, 120_000);
    host.stop();
    assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.output));
    assert.equal((status.output as { totals: { users: number } }).totals.users, n);
    return sizes;
  };
  /** What generations before this one would have added up (the last generations of a run are what carry the biggest counts). */
  const totalsSoFar = (done: number) => ({ ...emptyTotals(), users: done, services: 4 * done, items: 1_234 * done, fetched: 123 * done, fetchedBytes: 98_765_432 * done, removed: done, failed: 7, partial: 3 });

  test('a whole 300-user run, and the last generations of 10,000- and 50,000-user runs: the same payload sizes, all under 16 KB', { timeout: 120_000 }, async () => {
    const whole = await run(300, {});
    // The orchestrator's own resume input (continueAsNew): start where a long run's last generations are.
    const tenk = await run(10_000, { runId: 'scale-10k', userCount: 10_000, offset: 10_000 - 120, totals: totalsSoFar(10_000 - 120) });
    const fiftyk = await run(50_000, { runId: 'scale-50k', userCount: 50_000, offset: 50_000 - 120, totals: totalsSoFar(50_000 - 120) });
    for (const sizes of [whole, tenk, fiftyk]) for (const [kind, size] of sizes) assert.ok(size < PAYLOAD_LIMIT, `${kind}: ${size} bytes`);
    for (const [kind, size] of fiftyk) {
      // Counts gain a digit or two; a list of users would add ~100 bytes per user.
      assert.ok(size <= (tenk.get(kind) ?? 0) + 48, `${kind}: ${tenk.get(kind)} bytes with 10,000 users, ${size} with 50,000`);
    }
    assert.ok(whole.has('output of activity beginBackupRun') && whole.has('input of activity finishBackupRun'), [...whole.keys()].join(', '));
    assert.ok(fiftyk.size >= 6, [...fiftyk.keys()].join(', '));
  });
});

describe('the tenant directory (1,000 users in Azurite; the row of user #49,999 no bigger than user #0) and a 10,000-user roster', () => {
  let setup: TestRepository | undefined;
  let repo: Repo;
  // Azurite writes 100-500 rows/s on this shared machine: 1,000 users (2,000 rows) here; a row's size does not depend on N.
  const N = 1_000;
  before(async () => {
    setup = await startTestRepository({ name: 'scaledir', password: 'pw' });
    repo = setup.repo;
  });
  after(async () => {
    await setup?.stop();
  });

  test('written in batches, every row under Table limits; lookups read one or two rows; pages are bounded', { timeout: 240_000 }, async () => {
    const d = tenantDirectory(repo, 'synthetic');
    const probed = new Date().toISOString();
    for (let i = 0; i < N; i += 2_000) await d.put(Array.from({ length: Math.min(2_000, N - i) }, (_, j) => ({ value: syntheticUser(i + j, probed) })));
    await d.put([49_999, 49_998].map((i) => ({ value: syntheticUser(i, probed) })));
    const sizeOf = async (i: number) => rowSizes((await repo.tables.get(repo.layout.snapshotTable, d.partition, d.memberKey(guid(i))))!).entity;
    assert.ok((await sizeOf(49_998)) <= (await sizeOf(3)) + 16, 'a user row does not grow with the directory (same services, 4 more digits)');
    // The roster of a 10,000-user run, written as Graph pages of 999 arrive: 100 rows of 100 users, each far below 64 KiB.
    const roster = new RosterWriter(repo, 'run-10k');
    for (let i = 0; i < 10_000; i += 999) await roster.add(Array.from({ length: Math.min(999, 10_000 - i) }, (_, j) => syntheticUser(40_000 + i + j, probed)));
    assert.equal(await roster.finish(), 10_000);
    assert.equal((await rosterUser(repo, 'run-10k', 9_999)).id, guid(49_999));
    // A run of 50,000 users x 4 services leaves one outcome row per unit and a summary: a page of the report is bounded.
    for (let i = 0; i < 60; i++) for (const service of ['mail', 'onedrive'] as const)
      await recordServiceOutcome(repo, 'run-50k', { userId: guid(i), userPrincipalName: syntheticUser(i, probed).userPrincipalName, service, status: 'complete', snapshot: 1, items: 1, fetched: 1, fetchedBytes: 1, removed: 0, failed: 500, unit: 1, failures: Array.from({ length: 500 }, (_, k) => ({ id: `item-${k}`, reason: 'x'.repeat(1_000) })), host: 'h' });
    const limits = await assertRowsWithinLimits(repo);
    assert.ok(limits.rows >= 2 * N + 100, `${limits.rows} rows`);

    // By id, by UPN (case-insensitive): point reads, no listing.
    const calls = countingQueries(repo);
    assert.equal((await d.find(guid(777)))?.userPrincipalName, syntheticUser(777, probed).userPrincipalName);
    assert.equal((await d.find(syntheticUser(444, probed).userPrincipalName.toUpperCase()))?.id, guid(444));
    assert.deepEqual((await directoryUsers(repo, 'synthetic', guid(7))).map((u) => u.id), [guid(7)]);
    assert.equal(calls.queries, 0, 'a lookup lists nothing');

    // Pages: bounded, cover everyone exactly once.
    const seen = new Set<string>();
    let after: string | undefined;
    let pages = 0;
    do {
      const p = await d.page({ after, limit: 1000 });
      assert.ok(p.members.length <= 1000);
      for (const u of p.members) seen.add(u.id);
      after = p.next;
      pages++;
    } while (after);
    assert.equal(seen.size, N + 2);
    assert.equal(pages, Math.ceil((N + 2) / 1000));

    // The HTTP snapshot listing pages through users; a report page is bounded and keeps its lines whole.
    const snaps = await listTenantSnapshotsPage(repo, { tenantName: 'synthetic', services: ['mail'] });
    assert.ok(snaps.next, 'a listing of 1,000 users is paged');
    const report = await readRunReportPage(repo, 'run-50k', { limit: 50 });
    assert.equal(report.lines.length, 50);
    assert.ok(Buffer.byteLength(JSON.stringify(report)) < 4 * 1024 * 1024);
    const second = await readRunReportPage(repo, 'run-50k', { cursor: report.next, limit: 50 });
    assert.notEqual(second.lines[0]!.userId + second.lines[0]!.service, report.lines.at(-1)!.userId + report.lines.at(-1)!.service);
    // Unchanged (user, service) outcomes in batch rows (two rows of 100 and 50 entries): pages go through them too, every line once.
    const unchangedEntries = Array.from({ length: 150 }, (_, i) => ({ userId: guid(1_000 + i), userPrincipalName: syntheticUser(1_000 + i, probed).userPrincipalName, service: 'mail' as const, snapshot: 3, items: 7 }));
    assert.equal(await recordUnchangedOutcomes(repo, 'run-50k', 'r0001000', unchangedEntries, 'h'), 2);
    const lineKeys = new Set<string>();
    let cursor: string | undefined;
    let reportPages = 0;
    do {
      const p = await readRunReportPage(repo, 'run-50k', { cursor, limit: 70 });
      assert.ok(p.lines.length <= 70);
      for (const l of p.lines) {
        const k = `${l.userId}/${l.service}`;
        assert.ok(!lineKeys.has(k), `${k} once`);
        lineKeys.add(k);
      }
      cursor = p.next;
      reportPages++;
    } while (cursor);
    assert.equal(lineKeys.size, 120 + 150);
    assert.equal(reportPages, Math.ceil(270 / 70));
    const batchLine = (await readRunReportPage(repo, 'run-50k', { limit: 200 })).lines.find((l) => l.userId === guid(1_000));
    assert.deepEqual([batchLine?.status, batchLine?.unchanged, batchLine?.snapshot, batchLine?.items, batchLine?.failed], ['complete', true, 3, 7, 0]);

    // Renames: the new UPN finds the user, the old one no longer does.
    const before = (await d.get(guid(5)))!;
    await d.put([{ value: { ...before, userPrincipalName: 'renamed.five@contoso-international.example' }, previous: before }]);
    assert.equal((await d.find('Renamed.Five@contoso-international.example'))?.id, guid(5));
    assert.equal(await d.find(before.userPrincipalName), undefined);

    // A directory of an earlier release (every user in one sealed property) is read as it is, and migrated to rows.
    const legacyUsers = [0, 1, 2].map((i) => ({ id: guid(i), userPrincipalName: `old${i}@legacy.example`, displayName: `Old ${i}`, services: ['mail' as const] }));
    await new Catalog(repo, directoryPartition('legacy')).writeState({ users: legacyUsers, lastReport: { status: 'complete' } });
    const old = tenantDirectory(repo, 'legacy');
    assert.equal((await old.find('OLD1@legacy.example'))?.id, guid(1));
    assert.equal((await old.page()).members.length, 3);
    assert.equal(await old.migrate(), 3);
    assert.equal(await new Catalog(repo, directoryPartition('legacy')).readState(), undefined, 'the one-property directory is gone');
    assert.equal((await old.find('old2@legacy.example'))?.displayName, 'Old 2');
    assert.equal((await old.page()).members.length, 3);

    const v = await verifyRepository(repo);
    assert.deepEqual(v.issues, []);
    assert.ok(v.directoryRows >= 2 * N, `${v.directoryRows} directory rows checked`);
    // A directory row altered in storage is named by verify.
    const victim = (await repo.tables.get(repo.layout.snapshotTable, d.partition, d.memberKey(guid(3))))!;
    const { etag: _etag, ...row } = victim;
    const body = Buffer.from(victim.body as Uint8Array);
    body[40]! ^= 1;
    await repo.tables.upsert(repo.layout.snapshotTable, { ...row, body });
    const tampered = await verifyRepository(repo);
    assert.equal(tampered.issues.length, 1, JSON.stringify(tampered.issues));
    await assert.rejects(d.get(guid(3)), /altered/);
  });
});

/** Counts table queries of the repository (point reads are not queries). */
function countingQueries(repo: Repo): { queries: number } {
  const c = { queries: 0 };
  const tables = repo.tables;
  const query = tables.query.bind(tables);
  tables.query = ((table: string, o?: Parameters<typeof query>[1]) => {
    c.queries++;
    return query(table, o);
  }) as typeof tables.query;
  return c;
}

describe('a 400-user tenant through the local Functions host (failed with PropertyValueTooLarge before)', () => {
  let suite: M365Suite;
  let services: AppServices;
  const everyone = (n: number) => Array.from({ length: n }, (_, i) => i);
  before(async () => {
    // 400 users: two have a OneDrive with one small file, nobody has a mailbox (a fast run).
    suite = await startM365Suite([
      { name: 'four', seed: 32, shape: { users: 400, filesPerUser: 1, maxFileBytes: 300, messagesPerUser: 0, eventsPerUser: 0, contactsPerUser: 0, withoutMailbox: everyone(400), withoutDrive: everyone(400).filter((i) => i !== 0 && i !== 399) } },
    ]);
    assert.equal((await suite.addTenant('four')).code, 0);
    services = new AppServices(loadSettings(suite.processEnv()));
  });
  after(async () => suite?.stop());

  test('completes, pages its report and snapshots, probes nobody the next night, restores one user by UPN', { timeout: 240_000 }, async () => {
    const stateDir = join(suite.work, 'durable-four');
    const host: FunctionsHostProcess = await startFunctionsHost(suite.processEnv({ BACKUP_USER_PARALLELISM: '16' }), stateDir);
    const graphRequests = () => [...suite.sim.stats.requests.values()].reduce((a, b) => a + b, 0);
    const backup = async () => {
      suite.sim.resetStats();
      const r = await getJson(`${host.origin}/api/backups`, { method: 'POST', body: JSON.stringify({ tenant: 'four' }) });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const id = (r.body.backups as { id: string }[])[0]!.id;
      const done = await waitForInstance(host.origin, id, 200_000);
      assert.equal(done.runtimeStatus, 'Completed', JSON.stringify(done));
      return { id, requests: graphRequests() };
    };
    try {
      const first = await backup();
      const run = await getJson(`${host.origin}/api/backups/${first.id}?limit=1`);
      assert.equal((run.body.report as unknown[]).length, 1);
      assert.ok(run.body.reportNext, 'the report is paged');
      assert.equal((run.body.summary as { users: number }).users, 400);
      const rest = await getJson(`${host.origin}/api/backups/${first.id}?cursor=${String(run.body.reportNext)}`);
      assert.equal((rest.body.report as unknown[]).length, 1, 'two users have a OneDrive');
      const snaps = await getJson(`${host.origin}/api/snapshots?tenant=four&service=onedrive&limit=50`);
      assert.equal(snaps.status, 200, JSON.stringify(snaps.body));
      assert.ok(snaps.body.next, 'the listing of 400 users is paged');
      // The second night: the directory knows every user's services; no probe is sent.
      const second = await backup();
      assert.ok(first.requests >= 800, `${first.requests} Graph requests on the first night (two probes per user)`);
      assert.ok(second.requests <= 40, `${second.requests} Graph requests on the second night (listing and two OneDrive deltas)`);
    } finally {
      await host.stop();
    }
    const t = await services.tenant('four');
    await assertRowsWithinLimits(t.repo);
    assert.equal((await lastRun(t.repo, 'four'))?.totals.users, 400);
    const v = await verifyRepository(t.repo);
    assert.deepEqual(v.issues, []);
    const sim = suite.tenants.get('four')!;
    const upn = [...sim.tenant.users.values()].map((u) => u.user).filter((u) => u.hasDrive).at(-1)!.userPrincipalName;
    const target = join(suite.work, 'restore-four');
    const restored = await suite.cli(['restore', '--tenant', 'four', '--user', upn.toUpperCase(), '--service', 'onedrive', target], sim.password);
    assert.equal(restored.code, 0, restored.stderr);
  });
});
