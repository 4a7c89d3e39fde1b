import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, renameSync, appendFileSync, unlinkSync, openSync, writeSync, closeSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import type { TestStorage } from './support/azurite';
import { startCliSuite, type CliSuite } from './support/suite';
import { runCli, type CliEnv } from './support/cli';
import { buildRoundTripFolder, put } from './support/folders';
import { diffManifests, manifest, type Manifest } from './support/tree';
import { SeededRandom } from './support/random';

const MiB = 1024 * 1024;

describe('folder backup round trip', () => {
  let suite: CliSuite;
  let storage: TestStorage;
  let work: string;
  let env: CliEnv;
  let src: string;
  const states: Manifest[] = [];

  before(async () => {
    suite = await startCliSuite('roundtrip', 'correct horse battery staple');
    storage = suite.storage;
    work = suite.work;
    src = join(work, 'source folder');
    env = suite.env;
    buildRoundTripFolder(src, { bigFileBytes: 300 * MiB, smallFiles: 10_000, seed: 42 });
    const init = await runCli(['init'], env);
    assert.equal(init.code, 0, init.stderr);
  });

  after(async () => {
    await suite?.stop();
  });

  async function backup(extra: string[] = []) {
    const r = await runCli(['backup', src, '--json', ...extra], env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { snapshot: number; newChunks: number; newBytes: number; items: number; deletedItems: number; changedItems: number };
  }

  async function restoreAndCompare(snapshot: string, expected: Manifest) {
    const out = join(work, `restore-${snapshot}-${Date.now()}`);
    const r = await runCli(['restore', snapshot, out], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(diffManifests(expected, await manifest(out)), []);
    rmSync(out, { recursive: true, force: true });
  }

  test('a full backup restores byte-identical, with mtimes, modes, links and empty folders', async () => {
    const s = await backup();
    assert.equal(s.snapshot, 1);
    assert.ok(s.items > 10_000);
    states[1] = await manifest(src);
    await restoreAndCompare('latest', states[1]);
  });

  test('after adding, modifying, renaming and deleting, each snapshot restores exactly as it was', async () => {
    put(src, 'added/new file.txt', 'brand new\n');
    appendFileSync(join(src, 'small/d001/f1.bin'), 'modified');
    renameSync(join(src, 'Ünïcödé folder'), join(src, 'Ünïcödé folder renamed'));
    renameSync(join(src, 'small/d002/f2.bin'), join(src, 'small/d002/f2 renamed.bin'));
    unlinkSync(join(src, 'small/d003/f3.txt'));
    rmSync(join(src, 'deep empty'), { recursive: true });
    const s = await backup();
    assert.equal(s.snapshot, 2);
    assert.ok(s.deletedItems >= 5, `deleted ${s.deletedItems}`);
    assert.ok(s.newBytes < 64 * 1024, `an incremental of small edits stored ${s.newBytes} bytes`);
    states[2] = await manifest(src);
    await restoreAndCompare('1', states[1]!);
    await restoreAndCompare('2', states[2]);
  });

  test('changing 1 MiB in the middle of the 300 MiB file adds only a few chunks', async () => {
    const fd = openSync(join(src, 'big file.bin'), 'r+');
    writeSync(fd, new SeededRandom(7).bytes(MiB), 0, MiB, 150 * MiB);
    closeSync(fd);
    const s = await backup();
    // The gear table is keyed by a per-repository secret, so where the cuts fall differs from run to
    // run: the changed MiB plus the chunks on either side until the cuts fall in step again. Usually
    // 1-4 chunks; chunks near the 512 KiB minimum can make it 6 or more. What must hold is locality:
    // a handful of chunks and a few MiB, out of 300 MiB.
    assert.ok(s.newChunks >= 1 && s.newChunks <= 8, `expected 1-8 new chunks, got ${s.newChunks} (${s.newBytes} bytes)`);
    assert.ok(s.newBytes <= 12 * MiB, `stored ${s.newBytes} new bytes for a 1 MiB change`);
    states[3] = await manifest(src);
    await restoreAndCompare('3', states[3]);
    await restoreAndCompare('1', states[1]!);
  });

  test('identical content in another partition is stored once', async () => {
    const copy = join(work, 'copy');
    cpSync(src, copy, { recursive: true, verbatimSymlinks: true });
    const r = await runCli(['backup', copy, '--json', '--partition', 'second machine'], env);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { newChunks: number; newBytes: number; items: number };
    assert.equal(s.newChunks, 0);
    assert.equal(s.newBytes, 0);
    assert.ok(s.items > 10_000);
  });

  test('an unchanged folder is not re-read', async () => {
    const s = await backup();
    assert.equal(s.changedItems, 0);
    assert.equal(s.newChunks, 0);
  });

  test('verify --read-data finds the repository clean', async () => {
    const r = await runCli(['verify', '--read-data'], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /No problems found/);
  });
});
