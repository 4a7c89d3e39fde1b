import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ArchiveTierBlobStore, AzureBlobStore, ImmutableBlobStore, type BlobStore, type StorageConnection } from '../../shared/storage';
import { startTestStorage, type TestStorage } from '../support/azurite';
import { rejectsWith } from './contract';
import { testClock } from './clock';

const DAY = 86_400_000;
const blockId = Buffer.from('block-0').toString('base64');

describe('Archive-tier and immutability emulators: accounting, lifecycle, state shared across processes', () => {
  let storage: TestStorage;
  let connection: StorageConnection;
  /** A store of "another process": a new SDK client, no memory shared with the first. */
  const otherProcess = (): BlobStore => new AzureBlobStore(connection);

  before(async () => {
    storage = await startTestStorage();
    connection = { kind: 'connectionString', connectionString: storage.connectionString };
  });
  after(async () => storage?.stop());

  test('early deletion: deleting, overwriting or re-tiering before the minimum days records the prorated days owed', async () => {
    const c = testClock();
    const archive = new ArchiveTierBlobStore(otherProcess(), { clock: c.clock, stateContainer: 'ledger-state' });
    await archive.ensureContainer('ledger');
    await archive.putBlob('ledger', 'cool', Buffer.from('c'), { tier: 'Cool' });
    await archive.putBlob('ledger', 'cold', Buffer.from('c'), { tier: 'Cold' });
    await archive.putBlob('ledger', 'archived', Buffer.from('a'), { tier: 'Cool' });
    await archive.putBlob('ledger', 'hot', Buffer.from('h'), { tier: 'Hot' });
    await archive.setTier('ledger', 'archived', 'Archive');
    c.advance(10 * DAY);
    assert.equal(await archive.deleteBlob('ledger', 'cool'), true);
    await archive.putBlob('ledger', 'cold', Buffer.from('rewritten'));
    await archive.deleteBlob('ledger', 'hot');
    c.advance(30 * DAY);
    await archive.setTier('ledger', 'archived', 'Hot', { rehydratePriority: 'High' });
    c.advance(2 * 3600_000);
    assert.equal((await archive.stat('ledger', 'archived'))?.tier, 'Hot');
    c.advance(200 * DAY);
    await archive.deleteBlob('ledger', 'archived');

    const ledger = (await archive.earlyDeletionCharges()).sort((x, y) => x.at.localeCompare(y.at) || x.name.localeCompare(y.name));
    const charges = ledger.map((x) => [x.name, x.tier, Math.round(x.days), x.reason]);
    assert.deepEqual(charges, [
      ['archived', 'Cool', 30, 'retier'],
      ['cold', 'Cold', 80, 'overwrite'],
      ['cool', 'Cool', 20, 'delete'],
      ['archived', 'Archive', 140, 'retier'],
    ]);
    // Another process sees the same ledger.
    const again = new ArchiveTierBlobStore(otherProcess(), { stateContainer: 'ledger-state' });
    assert.equal((await again.earlyDeletionCharges()).length, 4);
  });

  test('archive on commit (the lifecycle rule for packs), rehydration seen by another process, priority High brings it forward', async () => {
    const c = testClock();
    const options = { clock: c.clock, stateContainer: 'lifecycle-state', rehydrateMs: { Standard: 10 * 3600_000, High: 3600_000 }, archiveOnCommit: (container: string) => container.endsWith('-packs') };
    const host = new ArchiveTierBlobStore(otherProcess(), options);
    await host.ensureContainer('repo-packs');
    await host.ensureContainer('repo-meta');
    await host.stageBlock('repo-packs', 'ab/pack', blockId, Buffer.from('pack bytes'));
    await host.commitBlocks('repo-packs', 'ab/pack', [blockId], { tier: 'Cool', ifNoneMatch: true });
    await host.putBlob('repo-meta', 'index', Buffer.from('meta'));
    await rejectsWith(host.getBlob('repo-packs', 'ab/pack', { offset: 0, count: 4 }), 'BLOB_ARCHIVED');
    assert.equal((await host.getBlob('repo-meta', 'index')).toString(), 'meta');

    // The test process (a different store object, same Azurite) sees and drives the same state.
    const tester = new ArchiveTierBlobStore(otherProcess(), options);
    assert.equal((await tester.stat('repo-packs', 'ab/pack'))?.tier, 'Archive');
    await tester.setTier('repo-packs', 'ab/pack', 'Cool');
    assert.equal((await host.stat('repo-packs', 'ab/pack'))?.archiveStatus, 'rehydrate-pending-to-cool');
    c.advance(2 * 3600_000);
    await rejectsWith(host.getBlob('repo-packs', 'ab/pack'), 'BLOB_ARCHIVED');
    await host.setTier('repo-packs', 'ab/pack', 'Cool', { rehydratePriority: 'High' });
    await rejectsWith(host.setTier('repo-packs', 'ab/pack', 'Archive'), 'STORAGE');
    c.advance(3600_000);
    assert.equal((await tester.getBlob('repo-packs', 'ab/pack')).toString(), 'pack bytes');
    const listed = [];
    for await (const b of host.list('repo-packs')) listed.push([b.name, b.tier, b.archiveStatus]);
    assert.deepEqual(listed, [['ab/pack', 'Cool', undefined]]);
    // The inner store was never asked to archive: Azurite's own Archive would not rehydrate with a delay.
    assert.equal((await storage.blobs.stat('repo-packs', 'ab/pack'))?.tier, 'Cool');
  });

  test('a blob rewritten behind the emulator is a new version: the old archived state does not apply', async () => {
    const archive = new ArchiveTierBlobStore(otherProcess(), { stateContainer: 'behind-state' });
    await archive.ensureContainer('behind');
    await archive.putBlob('behind', 'b', Buffer.from('v1'), { tier: 'Archive' });
    await rejectsWith(archive.getBlob('behind', 'b'), 'BLOB_ARCHIVED');
    await storage.blobs.putBlob('behind', 'b', Buffer.from('v2'));
    assert.equal((await archive.getBlob('behind', 'b')).toString(), 'v2');
    assert.equal((await archive.stat('behind', 'b'))?.tier, 'Hot');
  });

  test('container default policy: every new blob is immutable for N days, in every process; expires by the clock', async () => {
    const c = testClock();
    const options = { clock: c.clock, stateContainer: 'default-worm', defaultPolicy: { 'worm-packs': { days: 7 } } };
    const worm = new ImmutableBlobStore(otherProcess(), options);
    await worm.ensureContainer('worm-packs');
    await worm.ensureContainer('worm-other');
    await worm.putBlob('worm-packs', 'p1', Buffer.from('p1'));
    await worm.putBlob('worm-other', 'o1', Buffer.from('o1'));
    const info = await worm.stat('worm-packs', 'p1');
    assert.equal(info?.immutableUntil?.getTime(), c.clock() + 7 * DAY);
    assert.equal(info?.immutabilityMode, 'Unlocked');
    const other = new ImmutableBlobStore(otherProcess(), { ...options, clock: c.clock });
    await rejectsWith(other.deleteBlob('worm-packs', 'p1'), 'IMMUTABLE');
    await rejectsWith(other.putBlob('worm-packs', 'p1', Buffer.from('x')), 'IMMUTABLE');
    await rejectsWith(other.deleteContainer('worm-packs'), 'IMMUTABLE');
    assert.equal(await other.deleteBlob('worm-other', 'o1'), true);
    // A Locked policy survives a restart as Locked.
    await worm.setImmutability('worm-packs', 'p1', { until: new Date(c.clock() + 30 * DAY), mode: 'Locked' });
    await rejectsWith(other.removeImmutability('worm-packs', 'p1'), 'IMMUTABLE');
    c.advance(29 * DAY);
    await rejectsWith(other.deleteBlob('worm-packs', 'p1'), 'IMMUTABLE');
    c.advance(2 * DAY);
    assert.equal(await other.deleteBlob('worm-packs', 'p1'), true);
    await other.deleteContainer('worm-packs');
  });
});
