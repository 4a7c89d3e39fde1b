import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, unlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupFolder } from '../shared/backup';
import { LocalKeyProvider, TEST_ARGON2 } from '../shared/crypto';
import { Catalog, createRestoreSession, endRestoreSession, Lease, PRUNE_LEASE, prune, ReaderLease, rebuildIndex, verifyRepository, Repository } from '../shared/repo';
import type { PrivateKey } from '../shared/crypto';
import { restoreFolder } from '../shared/restore';
import { applyRetention, setRetentionPolicy } from '../shared/retention';
import { startTestStorage, type TestStorage } from './support/azurite';
import { put, putRandomFile } from './support/folders';
import { SeededRandom } from './support/random';
import { diffManifests, manifest, type Manifest } from './support/tree';

const PASSWORD = 'prune test password';
const HOUR = 3_600_000;
const BACKUPS = 20; // 60 simulated days, a backup every 3 days (so every pack is past Cool's 30-day minimum at the end)

/** Sum of the pack container's blob sizes. */
async function packBytes(repo: Repository): Promise<number> {
  let n = 0;
  for await (const b of repo.stores.blobs.list(repo.layout.packContainer)) n += b.size;
  return n;
}

describe('forget + prune over simulated days of a changing folder (virtual clock)', () => {
  let storage: TestStorage;
  let work: string;
  let repo: Repository;
  let key: PrivateKey;
  const expected = new Map<number, Manifest>();
  const src = () => join(work, 'src');

  before(async () => {
    storage = await startTestStorage();
    work = mkdtempSync(join(tmpdir(), 'm365b-prune-'));
    const stores = { blobs: storage.blobs, tables: storage.tables };
    repo = await Repository.init(stores, LocalKeyProvider.open(join(work, 'local.key'), { create: true }), {
      name: 'prunetest',
      password: PASSWORD,
      argon2: TEST_ARGON2,
      chunker: { minBytes: 4096, avgBytes: 8192, maxBytes: 32768 },
      packTargetBytes: 96 * 1024,
    });
    key = await repo.unlock(PASSWORD);
    // The clock: only Date is virtual (timers stay real), advanced 12 h per backup.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const rnd = new SeededRandom(12);
    for (let day = 0; day < BACKUPS; day++) {
      putRandomFile(src(), `new/${day}.bin`, 20_000 + rnd.int(0, 40_000), rnd);
      put(src(), `notes/${day % 5}.txt`, `note ${day} ${'x'.repeat(rnd.int(0, 3000))}`);
      if (day >= 3) unlinkSync(join(src(), 'new', `${day - 3}.bin`)); // a file lives three backups
      const r = await backupFolder(repo, { partition: 'laptop', source: src(), workers: 1 });
      expected.set(r.snapshot.seq, await manifest(src()));
      mock.timers.tick(72 * HOUR);
    }
  });
  after(async () => {
    mock.timers.reset();
    await storage?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('a GFS policy forgets the right snapshots, prune reclaims what it predicted, kept snapshots restore byte-exact', async () => {
    await setRetentionPolicy(repo, { user: 'laptop', keep: { last: 2, daily: 4, weekly: 2 } });
    const dry = await applyRetention(repo, [{ partitionName: 'laptop', user: 'laptop', label: 'laptop' }], { dryRun: true });
    assert.equal((await new Catalog(repo, 'laptop').snapshots()).length, BACKUPS, 'dry-run forgets nothing');
    const [outcome] = await applyRetention(repo, [{ partitionName: 'laptop', user: 'laptop', label: 'laptop' }]);
    assert.deepEqual(outcome!.decisions, dry[0]!.decisions);
    const kept = outcome!.decisions.filter((d) => d.keep).map((d) => d.seq);
    assert.ok(kept.length >= 4 && kept.length <= 8, `kept ${kept}`);
    assert.deepEqual(outcome!.forgotten, outcome!.decisions.filter((d) => !d.keep).map((d) => d.seq));
    assert.deepEqual((await new Catalog(repo, 'laptop').snapshots()).map((s) => s.seq), kept, 'forgotten snapshots are gone');

    // rebuild-index after a forget: the catalog blobs of forgotten snapshots remain (they may be
    // locked), their markers keep the snapshots forgotten; the versions only they had are dropped.
    const deadBefore = (await prune(repo, { dryRun: true, marginMs: 0 })).deadItemRows;
    assert.ok(deadBefore > 0);
    const rebuilt = await rebuildIndex(repo);
    assert.deepEqual(rebuilt.damaged, []);
    assert.equal(rebuilt.snapshots, kept.length, 'no forgotten snapshot comes back');
    assert.equal(rebuilt.forgotten, BACKUPS - kept.length);
    assert.equal(rebuilt.droppedItemRows, deadBefore, 'the item versions only forgotten snapshots had are dropped again');
    assert.deepEqual((await new Catalog(repo, 'laptop').snapshots()).map((s) => s.seq), kept);
    assert.deepEqual((await verifyRepository(repo)).issues, []);

    const prediction = await prune(repo, { dryRun: true, marginMs: 0 });
    assert.ok(prediction.deadPacks > 0, JSON.stringify(prediction));
    const before = await packBytes(repo);
    const done = await prune(repo, { marginMs: 0 });
    const reclaimed = before - (await packBytes(repo));
    assert.ok(Math.abs(reclaimed - prediction.reclaimBytes) <= prediction.reclaimBytes * 0.1, `reclaimed ${reclaimed}, predicted ${prediction.reclaimBytes}`);
    assert.equal(done.reclaimBytes, prediction.reclaimBytes);

    const v = await verifyRepository(repo, { privateKey: key });
    assert.deepEqual(v.issues, []);
    assert.equal(v.unreferencedPacks, 0);
    for (const seq of kept) {
      const target = join(work, `restore-${seq}`);
      await restoreFolder(repo, key, { partition: 'laptop', snapshot: String(seq), target });
      assert.deepEqual(diffManifests(expected.get(seq)!, await manifest(target)), [], `snapshot ${seq} restores byte-exact`);
    }
    assert.equal(done.forgottenCatalogs, BACKUPS - kept.length, 'the forgotten catalogs are deleted');
    const again = await prune(repo, { marginMs: 0 });
    assert.equal(again.deadPacks + again.deadItemRows + again.unreferencedPacks + again.forgottenCatalogs, 0, 'a second prune finds nothing');
    assert.equal((await rebuildIndex(repo)).snapshots, kept.length, 'rebuild after prune: the kept snapshots, nothing else');
  });

  test('a backup interleaved with prune at the critical step loses nothing (both orders)', async () => {
    const rnd = new SeededRandom(99);
    const other = join(work, 'other');
    for (const phase of ['marked', 'chunk-rows-deleted'] as const) {
      // Forget everything but the newest snapshot, so most chunks are dead, then back up a new partition
      // whose content dedups against those dead chunks while prune is between its steps.
      const snaps = await new Catalog(repo, 'laptop').snapshots();
      rmSync(other, { recursive: true, force: true });
      for (const f of readdirSync(join(src(), 'new'))) putRandomFile(other, `copy-${f}`, 1000 + rnd.int(0, 1000), rnd);
      // The files of the oldest snapshot, about to be forgotten: the new backup dedups against their chunks.
      await restoreFolder(repo, key, { partition: 'laptop', snapshot: String(snaps[0]!.seq), target: join(other, 'reused') });
      await applyRetention(repo, [{ partitionName: 'laptop', user: 'laptop', label: 'laptop' }], { rules: { last: 1 } });
      // Add a new laptop snapshot each round, so the next round has something to forget.
      put(src(), `round-${phase}.txt`, phase);
      const partition = `desktop-${phase}`;
      let snapshotSeq = 0;
      await prune(repo, {
        marginMs: 0,
        onPhase: async (p) => {
          if (p !== phase) return;
          snapshotSeq = (await backupFolder(repo, { partition, source: other, workers: 1 })).snapshot.seq;
        },
      });
      await backupFolder(repo, { partition: 'laptop', source: src(), workers: 1 });
      const target = join(work, `restore-${partition}`);
      await restoreFolder(repo, key, { partition, snapshot: String(snapshotSeq), target });
      assert.deepEqual(diffManifests(await manifest(other), await manifest(target)), [], `backup during "${phase}" restores byte-exact`);
      assert.deepEqual((await verifyRepository(repo, { privateKey: key })).issues, []);
    }
  });

  test('a restore and a prune exclude each other: whichever starts second is refused LOCKED and changes nothing', async () => {
    const locked = (what: RegExp) => (e: Error & { code?: string }) => e.code === 'LOCKED' && what.test(e.message);
    // A snapshot with a big file, then one without it: forgetting the first leaves whole packs dead.
    putRandomFile(src(), 'big.bin', 400_000, new SeededRandom(5));
    const withBig = (await backupFolder(repo, { partition: 'laptop', source: src(), workers: 1 })).snapshot.seq;
    unlinkSync(join(src(), 'big.bin'));
    await backupFolder(repo, { partition: 'laptop', source: src(), workers: 1 });
    const oldTarget = join(work, 'restore-before-prune');
    // Prune first: a restore (or verify) starting while it holds its lease is refused before it touches the target.
    let refusedDuringPrune = 0;
    await prune(repo, {
      marginMs: 0,
      onPhase: async (p) => {
        if (p !== 'marked') return;
        await assert.rejects(restoreFolder(repo, key, { partition: 'laptop', snapshot: String(withBig), target: oldTarget }), locked(/prune of this repository is running.*a restore now could read packs it deletes/));
        assert.equal(existsSync(oldTarget), false, 'the refused restore wrote nothing');
        await assert.rejects(verifyRepository(repo), locked(/prune of this repository is running/));
        refusedDuringPrune++;
      },
    });
    assert.equal(refusedDuringPrune, 1);
    // A restore first (the CLI's process-scoped reader lease, held while it reads): prune is refused, nothing deleted.
    await applyRetention(repo, [{ partitionName: 'laptop', user: 'laptop', label: 'laptop' }], { rules: { last: 1 } });
    const reader = await ReaderLease.acquire(repo, { what: 'a restore' });
    const before = await packBytes(repo);
    await assert.rejects(prune(repo, { marginMs: 0 }), locked(/A restore or verify is reading this repository.*prune would delete packs they read/));
    // Readers are shared: a second restore (here the Function App's, with its session) starts beside the first.
    const session = await createRestoreSession(repo, key, { reading: true });
    await reader.release();
    await assert.rejects(prune(repo, { marginMs: 0 }), locked(/reading this repository \(held by run restore:[0-9a-f]{16} /), 'the message names the session by a hash only');
    assert.equal(await packBytes(repo), before, 'nothing deleted while a restore reads');
    // Ending the session ends its reader lease: prune runs and reclaims.
    await endRestoreSession(repo, session);
    const done = await prune(repo, { marginMs: 0 });
    assert.ok(done.deadPacks + done.repackedPacks > 0 && (await packBytes(repo)) < before, 'prune runs once the readers are gone');
    // A reader left by a crash (its lease expired) does not block prune.
    await Lease.acquire(repo, 'reader-crashed', { owner: 'restore:crashed', ttlMs: -1000, autoRenew: false });
    await prune(repo, { marginMs: 0 });
    assert.deepEqual((await verifyRepository(repo, { privateKey: key })).issues, []);
  });

  test('prune while another prune holds the lease: LOCKED, nothing changed', async () => {
    const held = await Lease.acquire(repo, PRUNE_LEASE, { owner: 'another-prune', ttlMs: 60_000, autoRenew: false });
    try {
      const before = await packBytes(repo);
      await assert.rejects(prune(repo, { marginMs: 0 }), (e: Error & { code?: string }) => e.code === 'LOCKED' && /prune of this repository/.test(e.message));
      assert.equal(await packBytes(repo), before);
    } finally {
      await held.release();
    }
  });
});
