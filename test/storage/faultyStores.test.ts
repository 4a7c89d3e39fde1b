import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isBackupError } from '../../shared/errors';
import { AzureBlobStore, AzureTableStore, FaultyBlobStore, FaultyTableStore, type BlobStore, type TableStore } from '../../shared/storage';
import { startTestStorage, type TestStorage } from '../support/azurite';
import { rejectsWith } from './contract';

describe('fault injection wrappers: seeded failures before a call, unreachable storage, lost replies', () => {
  let storage: TestStorage;
  let blobs: BlobStore;
  let tables: TableStore;
  const container = 'faults';
  const table = 'faults';

  before(async () => {
    storage = await startTestStorage();
    const connection = { kind: 'connectionString' as const, connectionString: storage.connectionString };
    blobs = new AzureBlobStore(connection);
    tables = new AzureTableStore(connection);
    await blobs.ensureContainer(container);
    await tables.ensureTable(table);
  });
  after(async () => storage?.stop());

  test('transient and unreachable failures happen before the call: nothing is written', async () => {
    const faulty = new FaultyBlobStore(blobs, { rate: { putBlob: 1 }, kinds: ['transient'] });
    await rejectsWith(faulty.putBlob(container, 'transient', Buffer.from('x')), 'STORAGE');
    assert.equal(await blobs.stat(container, 'transient'), undefined);
    const down = new FaultyBlobStore(blobs, { rate: 1, kinds: ['unreachable'] });
    await rejectsWith(down.putBlob(container, 'down', Buffer.from('x')), 'STORAGE_UNREACHABLE');
    await rejectsWith(down.stat(container, 'down'), 'STORAGE_UNREACHABLE');
    await assert.rejects(
      (async () => {
        for await (const _ of down.list(container));
      })(),
      (e) => isBackupError(e, 'STORAGE_UNREACHABLE'),
    );
    assert.equal(await blobs.stat(container, 'down'), undefined);
    assert.equal(down.injected.length, 3);
    // Only the configured method fails.
    assert.equal(await faulty.stat(container, 'transient'), undefined);
  });

  test('a lost reply: the call fails although the write happened, so a blind retry meets its own write', async () => {
    const faulty = new FaultyBlobStore(blobs);
    faulty.failNext('putBlob', 'lostAck');
    await rejectsWith(faulty.putBlob(container, 'lost', Buffer.from('written'), { ifNoneMatch: true }), 'STORAGE');
    assert.equal((await blobs.getBlob(container, 'lost')).toString(), 'written');
    await rejectsWith(faulty.putBlob(container, 'lost', Buffer.from('written'), { ifNoneMatch: true }), 'ALREADY_EXISTS', 'PRECONDITION_FAILED');
    assert.deepEqual(faulty.injected, [{ method: 'putBlob', kind: 'lostAck', target: `${container}/lost` }]);

    const rows = new FaultyTableStore(tables);
    rows.failNext('create', 'lostAck');
    await rejectsWith(rows.create(table, { partitionKey: 'p', rowKey: 'lost', v: 1 }), 'STORAGE');
    assert.equal((await tables.get(table, 'p', 'lost'))?.v, 1);
    await rejectsWith(rows.create(table, { partitionKey: 'p', rowKey: 'lost', v: 1 }), 'ALREADY_EXISTS');
    rows.failNext('batch', 'transient');
    await rejectsWith(rows.batch(table, [{ kind: 'upsert', row: { partitionKey: 'p', rowKey: 'b1' } }]), 'STORAGE');
    assert.equal(await tables.get(table, 'p', 'b1'), undefined);
  });

  test('the same seed fails the same calls; a rate between 0 and 1 fails some and passes the rest', async () => {
    const run = async (seed: number) => {
      const faulty = new FaultyTableStore(tables, { seed, rate: { upsert: 0.3 }, kinds: ['transient', 'lostAck'] });
      const outcome: string[] = [];
      for (let i = 0; i < 30; i++) {
        try {
          await faulty.upsert(table, { partitionKey: `seed${seed}`, rowKey: String(i) });
          outcome.push('ok');
        } catch (e) {
          assert.ok(isBackupError(e, 'STORAGE'));
          outcome.push('fail');
        }
      }
      return { outcome, injected: faulty.injected.map((f) => `${f.kind} ${f.target}`) };
    };
    const a = await run(42);
    const b = await run(42);
    assert.deepEqual(a.outcome, b.outcome);
    assert.deepEqual(
      a.injected.map((x) => x.replace('seed42', '')),
      b.injected.map((x) => x.replace('seed42', '')),
    );
    const failures = a.outcome.filter((o) => o === 'fail').length;
    assert.ok(failures > 0 && failures < 30, `some but not all calls failed (${failures})`);
    // lost replies were written, transient ones were not
    for (const f of a.injected) {
      const rowKey = f.split('/').pop()!;
      const row = await tables.get(table, 'seed42', rowKey);
      assert.equal(row !== undefined, f.startsWith('lostAck') || a.outcome[Number(rowKey)] === 'ok');
    }
    const c = await run(7);
    assert.notDeepEqual(c.outcome, a.outcome, 'another seed fails other calls');
  });

  test('a retry loop over a faulty store ends with the write done exactly once', async () => {
    const faulty = new FaultyBlobStore(blobs, { seed: 3, rate: 0.5 });
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        await faulty.putBlob(container, 'retried', Buffer.from('once'), { ifNoneMatch: true });
        break;
      } catch (e) {
        // Losing the race to our own lost-reply write means it is done.
        if (isBackupError(e, 'ALREADY_EXISTS') || isBackupError(e, 'PRECONDITION_FAILED')) break;
        assert.ok(isBackupError(e, 'STORAGE') || isBackupError(e, 'STORAGE_UNREACHABLE'));
        assert.ok(attempts < 50);
      }
    }
    assert.equal((await blobs.getBlob(container, 'retried')).toString(), 'once');
  });
});
