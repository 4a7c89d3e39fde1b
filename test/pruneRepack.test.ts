import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupFolder } from '../shared/backup';
import { LocalKeyProvider, TEST_ARGON2, type PrivateKey } from '../shared/crypto';
import { Catalog, prune, verifyRepository, Repository, type PruneOptions } from '../shared/repo';
import { restoreFolder } from '../shared/restore';
import { applyRetention } from '../shared/retention';
import { startTestStorage, type TestStorage } from './support/azurite';
import { put, putRandomFile } from './support/folders';
import { SeededRandom } from './support/random';
import { diffManifests, manifest, type Manifest } from './support/tree';

const PASSWORD = 'repack test password';
const DAY = 86_400_000;
const ROUNDS = 8;
/** Prune as if 60 days had passed: every pack is past Cool's 30-day minimum. */
const later = () => Date.now() + 60 * DAY;

async function packBytes(repo: Repository): Promise<number> {
  let n = 0;
  for await (const b of repo.stores.blobs.list(repo.layout.packContainer)) n += b.size;
  return n;
}

async function packNames(repo: Repository): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const b of repo.stores.blobs.list(repo.layout.packContainer)) out.add(b.name);
  return out;
}

describe('prune repacks partly used packs (restic-grade), crash- and backup-safe', () => {
  let storage: TestStorage;
  let work: string;
  let keyFile: string;

  before(async () => {
    storage = await startTestStorage();
    work = mkdtempSync(join(tmpdir(), 'm365b-repack-'));
    keyFile = join(work, 'local.key');
    LocalKeyProvider.open(keyFile, { create: true });
  });
  after(async () => {
    await storage?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /**
   * Rounds of a folder where every round adds files that stay and files that the next round deletes,
   * backed up into the same packs; then the older half of the snapshots is forgotten, so packs hold
   * live chunks (files that stay) next to dead ones (files only forgotten snapshots had).
   */
  async function repositoryWithPartlyUsedPacks(name: string): Promise<{ repo: Repository; key: PrivateKey; kept: Map<number, Manifest>; src: string; forgottenFiles: Buffer[] }> {
    const repo = await Repository.init({ blobs: storage.blobs, tables: storage.tables }, LocalKeyProvider.open(keyFile), {
      name,
      password: PASSWORD,
      argon2: TEST_ARGON2,
      chunker: { minBytes: 4096, avgBytes: 8192, maxBytes: 32768 },
      packTargetBytes: 96 * 1024,
    });
    const key = await repo.unlock(PASSWORD);
    const src = join(work, name);
    const rnd = new SeededRandom(name.length * 31);
    const all = new Map<number, Manifest>();
    const forgottenFiles: Buffer[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let f = 0; f < 3; f++) {
        putRandomFile(src, `r${round}-keep-${f}.bin`, 15_000 + rnd.int(0, 15_000), rnd);
        putRandomFile(src, `r${round}-temp-${f}.bin`, 15_000 + rnd.int(0, 15_000), rnd);
      }
      if (round > 0)
        for (let f = 0; f < 3; f++) {
          const temp = join(src, `r${round - 1}-temp-${f}.bin`);
          if (round === 1) forgottenFiles.push(readFileSync(temp)); // only the first snapshot has it
          unlinkSync(temp);
        }
      put(src, 'notes.txt', `round ${round}`);
      const r = await backupFolder(repo, { partition: 'laptop', source: src, workers: 1 });
      all.set(r.snapshot.seq, await manifest(src));
    }
    const [outcome] = await applyRetention(repo, [{ partitionName: 'laptop', user: 'laptop', label: 'laptop' }], { rules: { last: ROUNDS / 2 } });
    const kept = new Map([...all].filter(([seq]) => outcome!.decisions.some((d) => d.keep && d.seq === seq)));
    assert.equal(kept.size, ROUNDS / 2);
    return { repo, key, kept, src, forgottenFiles };
  }

  async function assertKeptRestore(repo: Repository, key: PrivateKey, kept: Map<number, Manifest>, label: string): Promise<void> {
    const v = await verifyRepository(repo, { privateKey: key });
    assert.deepEqual(v.issues, [], `${label}: verify --read-data`);
    for (const [seq, m] of kept) {
      const target = join(work, `restore-${label}-${seq}`);
      await restoreFolder(repo, key, { partition: 'laptop', snapshot: String(seq), target });
      assert.deepEqual(diffManifests(m, await manifest(target)), [], `${label}: snapshot ${seq} restores byte-exact`);
      rmSync(target, { recursive: true, force: true });
    }
  }

  test('after forgetting half the snapshots: economics first, no key keeps packs whole, then repack reclaims what the dry run predicted', async () => {
    const { repo, key, kept } = await repositoryWithPartlyUsedPacks('repackmain');
    // Fresh packs owe Cool's 30-day minimum: rewriting them now would cost more than it saves.
    const fresh = await prune(repo, { dryRun: true, marginMs: 0 });
    assert.ok(fresh.partlyUsedPacks > 0, JSON.stringify(fresh));
    assert.equal(fresh.repackedPacks, 0);
    assert.equal(fresh.repackRefused.fee, fresh.partlyUsedPacks, 'every fresh partly used pack is refused for its fee');

    const o: PruneOptions = { marginMs: 0, now: later };
    const withKey = async () => key;
    const dry = await prune(repo, { ...o, dryRun: true, privateKey: withKey });
    assert.equal((await prune(repo, { ...o, dryRun: true })).repackNeedsKey, dry.repackedPacks, 'a dry run without a key says what the key would repack');
    assert.ok(dry.repackedPacks > 0 && dry.repackWrittenBytes > 0, JSON.stringify(dry));
    const noKey = await prune(repo, o);
    assert.equal(noKey.repackedPacks, 0);
    assert.equal(noKey.repackNeedsKey, dry.repackedPacks, 'without the key the partly used packs are kept whole, and said');
    await assertKeptRestore(repo, key, kept, 'no-key');

    const prediction = await prune(repo, { ...o, dryRun: true, privateKey: withKey });
    assert.equal(prediction.repackedPacks, dry.repackedPacks);
    assert.ok(prediction.reclaimBytes > 0, JSON.stringify(prediction));
    const before = await packBytes(repo);
    const namesBefore = await packNames(repo);
    const done = await prune(repo, { ...o, privateKey: async () => key });
    const reclaimed = before - (await packBytes(repo));
    assert.equal(done.repackedPacks, prediction.repackedPacks);
    assert.equal(done.repackRefused.archive + done.repackRefused.fee, 0);
    assert.equal(done.deferredPacks, 0, 'past the minimum nothing is kept for later');
    assert.ok(Math.abs(reclaimed - prediction.reclaimBytes) <= prediction.reclaimBytes * 0.1, `reclaimed ${reclaimed}, predicted ${prediction.reclaimBytes}`);
    assert.equal(done.reclaimBytes, reclaimed, 'the reported figure is the bytes the pack container lost');
    assert.equal(done.repackWrittenBytes, prediction.repackWrittenBytes, 'the new packs are exactly as big as predicted');
    const namesAfter = await packNames(repo);
    assert.ok([...namesAfter].some((n) => !namesBefore.has(n)), 'the live chunks are in new packs');
    await assertKeptRestore(repo, key, kept, 'repacked');
    const v = await verifyRepository(repo, { privateKey: key });
    assert.equal(v.unreferencedPacks, 0);
    const again = await prune(repo, { ...o, privateKey: async () => key });
    assert.equal(again.repackedPacks + again.deadPacks + again.unreferencedPacks, 0, `a second prune finds nothing: ${JSON.stringify(again)}`);
    assert.ok(again.partlyUsedDeadBytes <= 0.05 * before, 'what is left unused is within the 5% allowance');
  });

  test('a backup that reuses chunks of a pack being repacked loses nothing (at the step after the copy and after the row deletes)', async () => {
    for (const phase of ['repacked', 'chunk-rows-deleted'] as const) {
      const { repo, key, kept, src, forgottenFiles } = await repositoryWithPartlyUsedPacks(`repackrace${phase.length}`);
      // A new partition (prune holds no lock on it) backing up live chunks of packs being repacked
      // (round 0's files that stay) and dead chunks of them (round 0's temp files, only in forgotten snapshots).
      const reuse = join(work, `reuse-${phase}`);
      for (let f = 0; f < 3; f++) put(reuse, `live-${f}.bin`, readFileSync(join(src, `r0-keep-${f}.bin`)));
      forgottenFiles.forEach((b, f) => put(reuse, `dead-${f}.bin`, b));
      const partition = `desktop-${phase}`;
      let seq = 0;
      const done = await prune(repo, {
        marginMs: 0,
        now: later,
        maxUnused: 0, // every partly used pack, so the packs of the reused chunks are among them (ties are broken by random pack IDs)
        privateKey: async () => key,
        onPhase: async (p) => {
          if (p === phase) seq = (await backupFolder(repo, { partition, source: reuse, workers: 1 })).snapshot.seq;
        },
      });
      assert.ok(done.repackedPacks > 0, JSON.stringify(done));
      if (phase === 'repacked') assert.ok(done.rescued > 0, `the dead chunks the backup reused were rescued: ${JSON.stringify(done)}`);
      const target = join(work, `race-${phase}`);
      await restoreFolder(repo, key, { partition, snapshot: String(seq), target });
      assert.deepEqual(diffManifests(await manifest(reuse), await manifest(target)), [], `backup during "${phase}" restores byte-exact`);
      await assertKeptRestore(repo, key, kept, `race-${phase}`);
    }
  });

  test('SIGKILL at 10 random moments of a prune that repacks (any storage write, others in flight): each rerun finishes, nothing kept is lost', async () => {
    const child = join(__dirname, 'unit', 'repo', 'repackCrashChild.js');
    const runChild = (name: string, point: string) =>
      new Promise<{ signal: string | null; stdout: string }>((resolve) => {
        const p = execFile(process.execPath, [child, storage.connectionString, keyFile, name, PASSWORD, point, String(later())], (_e, stdout) => resolve({ signal: p.signalCode, stdout }));
      });
    // Every repository below is built from the same seed (names of one length): the same prune, so a
    // count of its storage writes on one of them says where "any moment" lies for the others.
    await repositoryWithPartlyUsedPacks('repackrandomcc');
    const writes = Number((await runChild('repackrandomcc', 'count')).stdout.trim());
    assert.ok(writes > 20, `a repacking prune makes many storage writes (${writes})`);
    const rnd = new SeededRandom(2026);
    const all: PruneOptions = { marginMs: 0, now: later, maxUnused: 0 };
    for (let trial = 0; trial < 10; trial++) {
      const name = `repackrandom0${trial}`;
      const { repo, key, kept } = await repositoryWithPartlyUsedPacks(name);
      const before = await packBytes(repo);
      const predicted = (await prune(repo, { ...all, privateKey: async () => key, dryRun: true })).reclaimBytes;
      const at = 1 + rnd.int(0, Math.floor(writes * 0.95) - 1);
      const { signal } = await runChild(name, `write:${at}`);
      assert.equal(signal, 'SIGKILL', `trial ${trial}: killed at storage write ${at} of ${writes}`);
      const rerun = await prune(repo, { ...all, privateKey: async () => key });
      await assertKeptRestore(repo, key, kept, `${name}-w${at}`);
      const again = await prune(repo, { ...all, privateKey: async () => key });
      assert.equal(again.repackedPacks + again.deadPacks + again.unreferencedPacks, 0, `trial ${trial} (write ${at}): the rerun finished the job: ${JSON.stringify({ rerun, again })}`);
      const reclaimed = before - (await packBytes(repo));
      assert.ok(Math.abs(reclaimed - predicted) <= predicted * 0.1, `trial ${trial} (write ${at}): reclaimed ${reclaimed}, predicted ${predicted}`);
      assert.equal((await new Catalog(repo, 'laptop').snapshots()).length, kept.size);
    }
  });

  test('SIGKILL during the repack (after a new pack, after the copy, after the row deletes): the rerun finishes, nothing kept is lost', async () => {
    const child = join(__dirname, 'unit', 'repo', 'repackCrashChild.js');
    for (const point of ['pack:1', 'phase:repacked', 'phase:chunk-rows-deleted']) {
      const name = `repackcrash${point.replace(/[^a-z0-9]/g, '')}`;
      const { repo, key, kept } = await repositoryWithPartlyUsedPacks(name);
      const before = await packBytes(repo);
      // Every partly used pack (maxUnused 0): the end state does not depend on which packs the allowance leaves.
      const all: PruneOptions = { marginMs: 0, now: later, maxUnused: 0, privateKey: async () => key };
      const predicted = (await prune(repo, { ...all, dryRun: true })).reclaimBytes;
      const signal = await new Promise<string | null>((resolve) => {
        const p = execFile(process.execPath, [child, storage.connectionString, keyFile, name, PASSWORD, point, String(later())], () => resolve(p.signalCode));
      });
      assert.equal(signal, 'SIGKILL', `${point}: the prune was killed there`);
      const rerun = await prune(repo, all);
      await assertKeptRestore(repo, key, kept, name);
      const again = await prune(repo, all);
      assert.equal(again.repackedPacks + again.deadPacks + again.unreferencedPacks, 0, `${point}: the rerun finished the job: ${JSON.stringify({ rerun, again })}`);
      const reclaimed = before - (await packBytes(repo));
      assert.ok(Math.abs(reclaimed - predicted) <= predicted * 0.1, `${point}: reclaimed ${reclaimed}, predicted ${predicted}`);
      assert.equal((await verifyRepository(repo, { privateKey: key })).unreferencedPacks, 0);
      assert.equal((await new Catalog(repo, 'laptop').snapshots()).length, kept.size);
    }
  });
});
