import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import { startTestStorage, type TestStorage } from './support/azurite';
import { totalRequests } from '../shared/storage/countingStores';
import type { ServiceOutcome, Service } from '../shared/m365';
import { azureStores, FaultyBlobStore } from '../shared/storage';
import { ContentSession, Repository, BLOOM_BLOB } from '../shared/repo';
import { BLOOM_DELTA_PREFIX, decodeBloomDelta } from '../shared/repo/bloomDelta';
import { SAVE_ATTEMPTS } from '../shared/repo/bloomCache';
import { LocalKeyProvider, TEST_ARGON2 } from '../shared/crypto';
import { DriverProcess } from './support/driverProcess';

/**
 * What one Function App work unit costs (issue 9, point 2): an unchanged (user, service) makes at
 * most 4 storage requests and no blob write, and no Graph request beyond its delta round trip; a
 * changed one works, and dedup holds across units and across worker processes through the Bloom
 * deltas; a Bloom save that keeps failing is reported. Storage requests are counted by
 * CountingBlobStore/CountingTableStore in the worker process, Graph requests by the simulator.
 */
const SHAPE = { users: 3, filesPerUser: 3, maxFileBytes: 200_000, messagesPerUser: 3, eventsPerUser: 2, contactsPerUser: 2 };
const SERVICES: Service[] = ['onedrive', 'mail', 'calendar', 'contacts'];
const DRIVER = join(__dirname, 'support', 'unitCostDriver.js');

class Worker extends DriverProcess {
  constructor(env: NodeJS.ProcessEnv) {
    super(DRIVER, env);
  }
}

describe('work unit cost (storage and Graph requests per unit)', () => {
  let suite: M365Suite;
  let t: SuiteTenant;
  let a: Worker;
  let b: Worker | undefined;
  const users: { id: string; userPrincipalName: string }[] = [];
  const seqs = new Map<string, number>();
  /** HTTP round trips to Graph (a JSON batch is one; token requests and downloads are not Graph calls). */
  const graphRequests = () => suite.sim.stats.seenHeaders.filter((l) => / \/v1\.0\//.test(l)).length;
  const unit = async (w: Worker, runId: string, index: number, service: Service) => {
    suite.sim.resetStats();
    const r = await w.send({ cmd: 'unit', runId, index, service });
    return { outcome: r.result as ServiceOutcome, counts: r.counts!, graph: graphRequests(), routes: Object.fromEntries(suite.sim.stats.requests) };
  };
  const packCount = async () => {
    let n = 0;
    for await (const _ of suite.storage.blobs.list(`${repoName}-packs`)) n++;
    return n;
  };
  let repoName = '';

  before(async () => {
    suite = await startM365Suite([{ name: 'cost', seed: 9, shape: SHAPE }]);
    t = suite.tenants.get('cost')!;
    const add = await suite.addTenant('cost');
    assert.equal(add.code, 0, add.stderr);
    a = new Worker(suite.processEnv({ UNIT_COST_TENANT: 'cost', M365_BACKUP_PASSWORD: t.password }));
    const ready = await a.ready;
    assert.ok(ready.ok, ready.error);
    repoName = (ready.result as { repository: string }).repository;
  });
  after(async () => {
    a?.stop();
    b?.stop();
    await suite?.stop();
  });

  test('a first run backs up every unit; an unchanged unit then costs <= 4 storage requests, no blob write, its delta at Graph', async () => {
    const begin = await a.send({ cmd: 'begin', runId: 'run-1' });
    const n = (begin.result as { users: number }).users;
    assert.equal(n, SHAPE.users);
    for (let i = 0; i < n; i++) users.push((await a.send({ cmd: 'who', runId: 'run-1', index: i })).result as { id: string; userPrincipalName: string });
    const before: Record<string, unknown> = {};
    for (let i = 0; i < n; i++)
      for (const s of SERVICES) {
        const r = await unit(a, 'run-1', i, s);
        assert.equal(r.outcome.status, 'complete', JSON.stringify(r));
        assert.ok(!r.outcome.unchanged);
        seqs.set(`${i}/${s}`, r.outcome.snapshot);
        if (i === 0) before[s] = { storage: totalRequests(r.counts), blobWrites: r.counts.blobWrites, graph: r.graph };
      }
    console.log(`first-run unit costs (user 0): ${JSON.stringify(before)}`);

    await a.send({ cmd: 'release', runId: 'run-1' });
    const begin2 = await a.send({ cmd: 'begin', runId: 'run-2' });
    assert.ok(!('refused' in (begin2.result as object)), JSON.stringify(begin2.result));
    const costs: Record<string, unknown> = {};
    for (let i = 0; i < n; i++)
      for (const s of SERVICES) {
        const r = await unit(a, 'run-2', i, s);
        const storage = totalRequests(r.counts);
        if (i === 0) costs[s] = { storage, byMethod: r.counts.byMethod, graph: r.graph, routes: r.routes };
        assert.equal(r.outcome.unchanged, true, `${s} of user ${i} is unchanged: ${JSON.stringify(r.outcome)}`);
        assert.equal(r.outcome.snapshot, seqs.get(`${i}/${s}`), 'the outcome names the previous snapshot');
        assert.equal(r.outcome.status, 'complete');
        assert.ok(storage <= 4, `${s}: ${storage} storage requests ${JSON.stringify(r.counts.byMethod)}`);
        assert.equal(r.counts.blobWrites, 0, `${s}: no blob write (${r.counts.blobsWritten.join(', ')})`);
        if (s !== 'mail') assert.ok(r.graph <= 2, `${s}: ${r.graph} Graph requests ${JSON.stringify(r.routes)}`);
        // Mail: the folder list and one delta per folder, nothing else (no message, no probe).
        else {
          // Mail: the folder tree listing and one batched round trip for every folder's delta; no message, no probe.
          // Plus the mailbox configuration (mailboxSettings, inbox rules, master categories): one more batch.
          const config = /mailboxSettings|messageRules|masterCategories/;
          for (const route of Object.keys(r.routes)) assert.match(route, /folder|delta|mailboxSettings|messageRules|masterCategories/i, `mail sends only folder listings, deltas and the configuration batch: ${JSON.stringify(r.routes)}`);
          const listings = Object.entries(r.routes).filter(([k]) => !/delta/i.test(k) && !config.test(k)).reduce((n, [, v]) => n + v, 0);
          assert.equal(r.graph, listings + 2, `mail: folder listings + one batch of deltas + one batch of configuration ${JSON.stringify(r.routes)}`);
        }
      }
    console.log(`unchanged unit costs (user 0): ${JSON.stringify(costs)}`);
  });

  test('a changed unit in another process backs up the change, and dedup holds across units and processes (Bloom deltas)', async () => {
    const [u0, u1] = users;
    // A new file for user 0; user 1 gets a copy of it and a copy of a file process A stored in run 1.
    const fresh = randomBytes(150_000);
    t.editor.addFile(u0!.id, 'Cost/new.bin', fresh);
    const old = [...t.tenant.user(u0!.id).drive.values()].find((f) => !f.folder && f.content && f.content.length > 1000 && f.parentId)!;
    assert.ok(old, 'user 0 has a file from run 1');
    t.editor.addFile(u1!.id, 'Cost/copy-of-new.bin', fresh);
    t.editor.addFile(u1!.id, 'Cost/copy-of-old.bin', old.content!);

    b = new Worker(suite.processEnv({ UNIT_COST_TENANT: 'cost', M365_BACKUP_PASSWORD: t.password }));
    assert.ok((await b.ready).ok);
    await a.send({ cmd: 'release', runId: 'run-2' });
    const begin3 = await b.send({ cmd: 'begin', runId: 'run-3' });
    assert.ok(!('refused' in (begin3.result as object)), JSON.stringify(begin3.result));
    const changed = await unit(b, 'run-3', 0, 'onedrive');
    assert.equal(changed.outcome.status, 'complete');
    assert.ok(!changed.outcome.unchanged);
    assert.equal(changed.outcome.snapshot, seqs.get('0/onedrive')! + 1, 'a changed unit commits the next snapshot');
    assert.equal(changed.outcome.fetched, 1);
    const written = changed.counts.blobsWritten;
    assert.ok(!written.includes(BLOOM_BLOB), 'no whole-filter rewrite');
    assert.equal(written.filter((w) => w.startsWith(BLOOM_DELTA_PREFIX)).length, 1, `one Bloom delta saved: ${written.join(', ')}`);
    console.log(`changed unit cost (one new file): storage ${totalRequests(changed.counts)} ${JSON.stringify(changed.counts.byMethod)}, Graph ${changed.graph}`);

    const packs = await packCount();
    const dup = await unit(b, 'run-3', 1, 'onedrive');
    assert.equal(dup.outcome.fetched, 2);
    assert.equal(await packCount(), packs, 'both copies were deduplicated: no new pack (same process, and what process A stored)');
    assert.ok(!dup.counts.blobsWritten.some((w) => w.startsWith(BLOOM_DELTA_PREFIX)), 'nothing new to save in the Bloom filter');

    // The other services of user 0 are still unchanged in process B (whose lease memory is warm after begin).
    for (const s of ['calendar', 'contacts'] as Service[]) {
      const r = await unit(b, 'run-3', 0, s);
      assert.equal(r.outcome.unchanged, true);
      assert.ok(totalRequests(r.counts) <= 4 && r.counts.blobWrites === 0, JSON.stringify(r.counts.byMethod));
    }
  });
});

describe('Bloom delta save failures are retried, then reported', () => {
  let storage: TestStorage;
  let work: string;
  before(async () => {
    storage = await startTestStorage();
    work = mkdtempSync(join(tmpdir(), 'm365b-bloomfail-'));
  });
  after(async () => {
    await storage?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('a transient failure is retried; failures past the retries throw STORAGE naming the dedup index, and the next save carries the IDs', async () => {
    const base = azureStores({ kind: 'connectionString', connectionString: storage.connectionString });
    const faulty = new FaultyBlobStore(base.blobs, { rate: 0 });
    const provider = LocalKeyProvider.open(join(work, 'local.key'), { create: true });
    const repo = await Repository.init({ blobs: faulty, tables: base.tables }, provider, { name: 'bloomfail', password: 'pw-bloomfail-1', argon2: TEST_ARGON2 });
    const deltas = async () => {
      const out: string[] = [];
      for await (const b of base.blobs.list(repo.layout.metaContainer, { prefix: BLOOM_DELTA_PREFIX })) out.push(b.name);
      return out;
    };
    const write = async (data: Buffer) => {
      const session = await ContentSession.open(repo, { workers: 1 });
      try {
        const durable = new Promise<void>((resolve, reject) => session.writer.add([{ data }], (_i, r) => (r.error ? reject(new Error(r.error)) : resolve())));
        await session.flush(); // seals the part-filled pack: the content becomes durable
        await durable;
        return session;
      } catch (e) {
        await session.close();
        throw e;
      }
    };

    // One transient failure of the delta write: retried, saved.
    let s = await write(randomBytes(70_000));
    faulty.failNext('putBlob', 'transient');
    await s.finish();
    assert.equal((await deltas()).length, 1);

    // Every attempt fails: reported, not silent.
    s = await write(randomBytes(70_000));
    for (let i = 0; i < SAVE_ATTEMPTS; i++) faulty.failNext('putBlob', 'unreachable');
    await assert.rejects(s.finish(), (e: Error & { code?: string }) => e.code === 'STORAGE' && /deduplication index could not be saved/.test(e.message));
    assert.equal((await deltas()).length, 1);
    // The next save carries the IDs that failed as well.
    s = await write(randomBytes(70_000));
    await s.finish();
    const names = await deltas();
    assert.equal(names.length, 2);
    const last = decodeBloomDelta(repo.keys.macKey, await base.blobs.getBlob(repo.layout.metaContainer, names.sort().at(-1)!))!;
    assert.ok(last.length >= 2, `the carried IDs are in the new delta (${last.length})`);
  });
});
