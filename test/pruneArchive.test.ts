import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupFolder } from '../shared/backup';
import { DEFAULT_STORAGE_PRICES } from '../shared/config';
import { LocalKeyProvider, TEST_ARGON2 } from '../shared/crypto';
import { GARBAGE_TAGS, packBlobName, prune, repositoryStorage, verifyRepository, Repository } from '../shared/repo';
import { applyRetention } from '../shared/retention';
import { ArchiveTierBlobStore, ImmutableBlobStore, type BlobStore } from '../shared/storage';
import { startTestStorage, type TestStorage } from './support/azurite';
import { putRandomFile } from './support/folders';
import { SeededRandom } from './support/random';

const DAY = 86_400_000;
const PASSWORD = 'prune archive test password';

/**
 * Prune under Azure's rules, through the storage contract's emulators over Azurite: the Archive tier
 * (packs go to Archive on commit, as the lifecycle rule moves them; early deletion is billed) and
 * version-level WORM (a container default policy of 30 days on the pack container, as infra sets).
 */
describe('prune with archived and immutable packs (emulators, virtual clock)', () => {
  let storage: TestStorage;
  let work: string;
  let now = Date.now();
  const clock = () => now;
  let archive: ArchiveTierBlobStore;
  let blobs: BlobStore;

  before(async () => {
    storage = await startTestStorage();
    work = mkdtempSync(join(tmpdir(), 'm365b-prune-archive-'));
  });
  after(async () => {
    await storage?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** A repository whose packs are archived on commit and locked for 30 days; three backups, all but the newest forgotten. */
  async function repositoryWithGarbage(name: string): Promise<Repository> {
    archive = new ArchiveTierBlobStore(storage.blobs, { clock, stateContainer: `${name}-archive-state`, archiveOnCommit: (c) => c === `${name}-packs` });
    blobs = new ImmutableBlobStore(archive, { clock, stateContainer: `${name}-worm-state`, defaultPolicy: { [`${name}-packs`]: { days: 30 } } });
    const repo = await Repository.init({ blobs, tables: storage.tables }, LocalKeyProvider.open(join(work, `${name}.key`), { create: true }), {
      name,
      password: PASSWORD,
      argon2: TEST_ARGON2,
      chunker: { minBytes: 4096, avgBytes: 8192, maxBytes: 32768 },
      packTargetBytes: 16 * 1024,
    });
    const rnd = new SeededRandom(7);
    const src = join(work, name);
    for (let i = 0; i < 3; i++) {
      rmSync(src, { recursive: true, force: true });
      for (let f = 0; f < 4; f++) putRandomFile(src, `${i}-${f}.bin`, 40_000 + rnd.int(0, 20_000), rnd);
      await backupFolder(repo, { partition: 'laptop', source: src, workers: 1 });
    }
    await applyRetention(repo, [{ partitionName: 'laptop', user: 'laptop', label: 'laptop' }], { rules: { last: 1 } });
    return repo;
  }

  async function packNames(repo: Repository): Promise<string[]> {
    const out: string[] = [];
    for await (const b of repo.stores.blobs.list(repo.layout.packContainer)) out.push(b.name);
    return out.sort();
  }

  test('Archive: a dead pack younger than 180 days is kept whole and reported with the fee avoided; after 180 days it is deleted with no fee', async () => {
    const repo = await repositoryWithGarbage('prunearch');
    const before = await packNames(repo);
    now += 40 * DAY; // past the 30-day lock, inside Archive's 180-day minimum
    const early = await prune(repo, { marginMs: 0, now: clock, prices: DEFAULT_STORAGE_PRICES });
    assert.equal(early.deadPacks, 0, JSON.stringify(early));
    assert.ok(early.deferredPacks > 0 && early.deferredFor['tier-minimum'] === early.deferredPacks, JSON.stringify(early));
    assert.ok(early.feeAvoided > 0, 'the fee an early delete would cost is reported');
    const deletable = Date.parse(early.nextDeletableAt!);
    assert.ok(Math.abs(deletable - (now - 40 * DAY + 180 * DAY)) < DAY, `deletable at ${early.nextDeletableAt}`);
    assert.deepEqual(await packNames(repo), before, 'no pack deleted or rewritten');
    assert.deepEqual(await archive.earlyDeletionCharges(), [], 'no early-deletion fee');

    const report = await repositoryStorage(repo, { prices: DEFAULT_STORAGE_PRICES, now: clock });
    assert.ok(report.packs.Archive.blobs === before.length && report.packs.Archive.monthlyCost > 0, JSON.stringify(report.packs));
    assert.equal(report.garbage.deferredPacks, early.deferredPacks);
    assert.ok(Math.abs(report.garbage.feeAvoided - early.feeAvoided) < 1e-6, 'the report shows the fee avoided');

    // --delete-early would pay; with the 'pay' choice the archived packs go now and the emulator bills them.
    now += 150 * DAY; // 190 days after the backups
    const late = await prune(repo, { marginMs: 0, now: clock, prices: DEFAULT_STORAGE_PRICES });
    assert.equal(late.deadPacks, early.deferredPacks);
    assert.equal(late.deferredPacks, 0);
    assert.equal(late.feePaid, 0);
    assert.equal((await packNames(repo)).length, before.length - early.deferredPacks);
    assert.deepEqual(await archive.earlyDeletionCharges(), [], 'deleted after the minimum: no fee');
    const v = await verifyRepository(repo);
    assert.deepEqual(v.issues, []);
    assert.equal(v.unreferencedPacks, 0);
  });

  test('Archive: a partly used archived pack is never rewritten, even with the key and --delete-early; an online one is', async () => {
    now = Date.now();
    const name = 'prunearchrepack';
    archive = new ArchiveTierBlobStore(storage.blobs, { clock, stateContainer: `${name}-archive-state`, archiveOnCommit: (c) => c === `${name}-packs` });
    const repo = await Repository.init({ blobs: archive, tables: storage.tables }, LocalKeyProvider.open(join(work, `${name}.key`), { create: true }), {
      name,
      password: PASSWORD,
      argon2: TEST_ARGON2,
      chunker: { minBytes: 4096, avgBytes: 8192, maxBytes: 32768 },
      packTargetBytes: 64 * 1024,
    });
    const key = await repo.unlock(PASSWORD);
    const rnd = new SeededRandom(8);
    const src = join(work, name);
    for (let f = 0; f < 4; f++) {
      putRandomFile(src, `${f}-keep.bin`, 20_000, rnd);
      putRandomFile(src, `${f}-temp.bin`, 20_000, rnd);
    }
    await backupFolder(repo, { partition: 'laptop', source: src, workers: 1 });
    for (let f = 0; f < 4; f++) rmSync(join(src, `${f}-temp.bin`));
    await backupFolder(repo, { partition: 'laptop', source: src, workers: 1 });
    await applyRetention(repo, [{ partitionName: 'laptop', user: 'laptop', label: 'laptop' }], { rules: { last: 1 } });
    const before = await packNames(repo);
    now += 200 * DAY; // past Archive's minimum: only the tier itself forbids the rewrite
    const r = await prune(repo, { marginMs: 0, now: clock, earlyDeletion: 'pay', privateKey: async () => key, prices: DEFAULT_STORAGE_PRICES });
    assert.ok(r.partlyUsedPacks > 0, JSON.stringify(r));
    assert.equal(r.repackedPacks, 0);
    assert.equal(r.repackRefused.archive, r.partlyUsedPacks, 'every partly used pack is refused: it is in Archive');
    assert.deepEqual(await packNames(repo), before, 'no Archive pack rewritten or deleted');
    assert.deepEqual(await archive.earlyDeletionCharges(), []);
    assert.deepEqual((await verifyRepository(repo)).issues, []);
  });

  test('WORM: the app cannot delete a locked pack; prune waits for the lock, a legal hold blocks it, a refused delete is tagged garbage', async () => {
    now = Date.now();
    const repo = await repositoryWithGarbage('pruneworm');
    const dead = (await prune(repo, { dryRun: true, marginMs: 0, now: clock, earlyDeletion: 'pay' })).deferredPacks;
    assert.ok(dead >= 2, `dead packs ${dead}`);
    const before = (await packNames(repo)).length;
    const [first] = await packNames(repo);
    await assert.rejects(repo.stores.blobs.deleteBlob(repo.layout.packContainer, first!), (e: Error & { code?: string }) => e.code === 'IMMUTABLE');
    await assert.rejects(repo.stores.blobs.putBlob(repo.layout.packContainer, first!, Buffer.from('ransom')), (e: Error & { code?: string }) => e.code === 'IMMUTABLE');

    now += 10 * DAY;
    const locked = await prune(repo, { marginMs: 0, now: clock, earlyDeletion: 'pay' });
    assert.equal(locked.deadPacks, 0);
    assert.equal(locked.deferredFor.immutability, dead, 'every dead pack waits for its lock, even with --delete-early');
    assert.ok(Math.abs(Date.parse(locked.nextDeletableAt!) - (now - 10 * DAY + 30 * DAY)) < DAY);

    // Past the lock: prune deletes the dead packs (paying Archive's minimum, as asked). One pack's delete
    // is refused at the last moment (a legal hold placed while prune runs): its rows are gone already,
    // so it is tagged garbage for the lifecycle rule, and the next prune does not retry it.
    now += 25 * DAY;
    let refused = '';
    const done = await prune(repo, {
      marginMs: 0,
      now: clock,
      earlyDeletion: 'pay',
      prices: DEFAULT_STORAGE_PRICES,
      onPhase: async (p) => {
        if (p !== 'chunk-rows-deleted') return;
        refused = await packWithoutChunkRows(repo);
        await repo.stores.blobs.setLegalHold(repo.layout.packContainer, packBlobName(refused), true);
      },
    });
    assert.equal(done.deadPacks, dead, JSON.stringify(done));
    assert.equal(done.taggedGarbage, 1);
    assert.ok(done.feePaid > 0, 'deleting archived packs before 180 days is billed, and said');
    assert.deepEqual(await repo.stores.blobs.getTags(repo.layout.packContainer, packBlobName(refused)), GARBAGE_TAGS, 'the refused pack is left to the lifecycle rule');
    assert.equal((await packNames(repo)).length, before - dead + 1);
    assert.deepEqual((await verifyRepository(repo)).issues, []);
    const again = await prune(repo, { marginMs: 0, now: clock, earlyDeletion: 'pay' });
    assert.equal(again.taggedGarbage + again.deadPacks + again.unreferencedPacks, 0, 'a tagged pack under a hold is not retried: ' + JSON.stringify(again));
    assert.equal(again.garbageWaiting, 1, 'and it is reported as garbage waiting for its lock');
  });
});

/** A pack that has its pack row but no chunk row any more: one prune is about to delete. */
async function packWithoutChunkRows(repo: Repository): Promise<string> {
  const withRows = new Set<string>();
  for await (const r of repo.stores.tables.query(repo.layout.chunkTable)) withRows.add(String(r.pack));
  for await (const r of repo.stores.tables.query(repo.layout.packTable)) if (!withRows.has(r.rowKey)) return r.rowKey;
  throw new Error('no pack without chunk rows');
}
