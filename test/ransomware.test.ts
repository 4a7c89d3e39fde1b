import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupFolder } from '../shared/backup';
import { LocalKeyProvider, TEST_ARGON2 } from '../shared/crypto';
import { Catalog, catalogBlobName, generationEnd, prune, packBlobName, packIndexBlobName, rebuildIndex, Repository, verifyRepository, type LockPolicy } from '../shared/repo';
import { restoreFolder } from '../shared/restore';
import { ImmutableBlobStore } from '../shared/storage';
import { startTestStorage, type TestStorage } from './support/azurite';
import { put, putRandomFile } from './support/folders';
import { SeededRandom } from './support/random';
import { diffManifests, manifest, type Manifest } from './support/tree';

const DAY = 86_400_000;
const PASSWORD = 'ransomware drill password';
const POLICY: LockPolicy = { days: 30 };

/**
 * Immutable generations and the ransomware drill, over Azurite through the storage contract's
 * version-level WORM emulator (Azurite has none). The product locks every pack, pack-index and
 * catalog blob (and its configuration backup) until the end of its generation; an attacker holding
 * the app's rights then deletes every table and every blob storage lets it delete; the repository
 * opens again from its configuration backup, rebuild-index brings the index back from the locked
 * blobs, and every snapshot restores byte-exact.
 */
describe('immutable generations and the ransomware drill (WORM emulator, virtual clock)', () => {
  let storage: TestStorage;
  let work: string;
  let repo: Repository;
  const keyFile = () => join(work, 'local.key');
  const expected = new Map<number, Manifest>();
  const src = () => join(work, 'src');
  let t0 = 0;

  before(async () => {
    storage = await startTestStorage();
    work = mkdtempSync(join(tmpdir(), 'm365b-ransomware-'));
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    t0 = Date.now();
    const blobs = new ImmutableBlobStore(storage.blobs, { stateContainer: 'drill-worm' });
    repo = await Repository.init({ blobs, tables: storage.tables }, LocalKeyProvider.open(keyFile(), { create: true }), {
      name: 'drill',
      password: PASSWORD,
      argon2: TEST_ARGON2,
      chunker: { minBytes: 4096, avgBytes: 8192, maxBytes: 32768 },
      packTargetBytes: 64 * 1024,
    });
    repo.lockPolicy = POLICY;
  });
  after(async () => {
    mock.timers.reset();
    await storage?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function backup(): Promise<number> {
    const r = await backupFolder(repo, { partition: 'laptop', source: src(), workers: 1 });
    expected.set(r.snapshot.seq, await manifest(src()));
    return r.snapshot.seq;
  }

  async function packs(): Promise<string[]> {
    const out: string[] = [];
    for await (const b of repo.blobs.list(repo.layout.packContainer)) out.push(b.name.split('/').pop()!);
    return out;
  }

  test('every pack, pack index and catalog of a generation shares one lock end; reusing a pack extends its lock', async () => {
    const rnd = new SeededRandom(3);
    for (let i = 0; i < 6; i++) putRandomFile(src(), `keep/${i}.bin`, 30_000 + rnd.int(0, 30_000), rnd);
    const first = await backup();
    const end0 = generationEnd(POLICY, t0);
    const firstPacks = await packs();
    assert.ok(firstPacks.length >= 1);
    for (const id of firstPacks) {
      assert.equal((await repo.blobs.stat(repo.layout.packContainer, packBlobName(id)))?.immutableUntil?.getTime(), end0, `pack ${id}`);
      assert.equal((await repo.blobs.stat(repo.layout.metaContainer, packIndexBlobName(id)))?.immutableUntil?.getTime(), end0, `pack index ${id}`);
    }
    const catalog = new Catalog(repo, 'laptop');
    assert.equal((await repo.blobs.stat(repo.layout.metaContainer, catalogBlobName(catalog.partition, first)))?.immutableUntil?.getTime(), end0, 'catalog');
    await assert.rejects(repo.blobs.deleteBlob(repo.layout.packContainer, packBlobName(firstPacks[0]!)), (e: Error & { code?: string }) => e.code === 'IMMUTABLE');

    // 25 days later: a backup with a copy of an old file deduplicates against an old pack, whose lock
    // ends before the new horizon (now + 30 days): it moves to the new generation at once.
    mock.timers.tick(25 * DAY);
    copyFileSync(join(src(), 'keep/0.bin'), join(src(), 'copy-of-0.bin'));
    await backup();
    const end25 = generationEnd(POLICY, Date.now());
    assert.ok(end25 > end0);
    const lockOf = async (id: string) => (await repo.blobs.stat(repo.layout.packContainer, packBlobName(id)))?.immutableUntil?.getTime();
    const extended = [];
    for (const id of firstPacks) if ((await lockOf(id)) === end25) extended.push(id);
    assert.ok(extended.length >= 1, 'the reused pack was extended by the backup');
    for (const id of extended) assert.equal((await repo.blobs.stat(repo.layout.metaContainer, packIndexBlobName(id)))?.immutableUntil?.getTime(), end25, 'with its pack index');

    // 25 more days, an unchanged backup (no chunk is looked up): prune's maintenance extends every kept
    // pack, pack index and catalog whose lock ends before the horizon.
    mock.timers.tick(25 * DAY);
    put(src(), 'day50.txt', 'new on day 50');
    const third = await backup();
    const r = await prune(repo, { marginMs: 0 });
    const end50 = generationEnd(POLICY, Date.now());
    assert.ok(r.locksExtended > 0);
    for (const id of firstPacks) assert.ok((await lockOf(id))! >= end50 - 10 * DAY && (await lockOf(id))! >= Date.now() + 30 * DAY, `kept pack ${id} locked past the horizon`);
    for (const seq of [first, third]) assert.ok((await repo.blobs.stat(repo.layout.metaContainer, catalogBlobName(catalog.partition, seq)))!.immutableUntil!.getTime() >= Date.now() + 30 * DAY, `catalog ${seq}`);
  });

  test('ransomware drill: with the app\'s rights every table and every deletable blob is deleted; open + rebuild-index; every snapshot restores byte-exact', async () => {
    const attacker = repo.stores;
    let deleted = 0;
    let refused = 0;
    for (const container of [repo.layout.packContainer, repo.layout.metaContainer]) {
      const names: string[] = [];
      for await (const b of attacker.blobs.list(container)) names.push(b.name);
      for (const n of names) {
        try {
          await attacker.blobs.putBlob(container, n, Buffer.from('encrypted by ransomware'));
          deleted++; // an unlocked blob overwritten: as good as deleted
        } catch {
          refused++;
        }
        try {
          await attacker.blobs.deleteBlob(container, n);
        } catch {
          /* locked */
        }
      }
    }
    const tables = Object.entries(repo.layout).filter(([k]) => k.endsWith('Table')).map(([, v]) => String(v));
    assert.ok(tables.length >= 6, tables.join());
    for (const t of tables) await attacker.tables.deleteTable(t);
    assert.ok(refused > 0 && deleted > 0, `refused ${refused}, overwritten or deleted ${deleted}`);

    // The admin's recovery: the same storage, key file and password.
    const reopened = await Repository.open(attacker, LocalKeyProvider.open(keyFile()), 'drill');
    const rebuilt = await rebuildIndex(reopened);
    assert.deepEqual(rebuilt.damaged, []);
    assert.equal(rebuilt.snapshots, expected.size);
    assert.deepEqual((await verifyRepository(reopened)).issues, []);
    const key = await reopened.unlock(PASSWORD);
    for (const [seq, want] of expected) {
      const target = join(work, `restored-${seq}`);
      await restoreFolder(reopened, key, { partition: 'laptop', snapshot: String(seq), target });
      assert.deepEqual(diffManifests(want, await manifest(target)), [], `snapshot ${seq} restores byte-exact`);
    }
  });
});
