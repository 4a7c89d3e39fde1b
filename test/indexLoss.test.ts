import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { TestStorage } from './support/azurite';
import { startCliSuite, type CliSuite } from './support/suite';
import { runCli, type CliEnv } from './support/cli';
import { put, putRandomFile } from './support/folders';
import { SeededRandom } from './support/random';
import { diffManifests, manifest, type Manifest } from './support/tree';
import { repositoryLayout } from '../shared/repo';

describe('index loss', () => {
  let suite: CliSuite;
  let storage: TestStorage;
  let work: string;
  let src: string;
  let env: CliEnv;
  const states: Manifest[] = [];
  const layout = repositoryLayout('m365backup');

  before(async () => {
    suite = await startCliSuite('index', 'index loss password');
    storage = suite.storage;
    work = suite.work;
    src = join(work, 'src');
    const rnd = new SeededRandom(5);
    putRandomFile(src, 'big.bin', 30 * 1024 * 1024, rnd);
    for (let i = 0; i < 300; i++) put(src, `docs/${i % 7}/note ${i}.txt`, `note ${i}\n`.repeat(i + 1));
    env = suite.env;
    assert.equal((await runCli(['init'], env)).code, 0);
    assert.equal((await runCli(['backup', src], env)).code, 0);
    states[1] = await manifest(src);
    appendFileSync(join(src, 'docs/0/note 0.txt'), 'changed');
    unlinkSync(join(src, 'docs/1/note 1.txt'));
    put(src, 'new/added.txt', 'added later');
    assert.equal((await runCli(['backup', src], env)).code, 0);
    states[2] = await manifest(src);
  });

  after(async () => {
    await suite?.stop();
  });

  test('rebuild-index restores the tables from the pack-index and catalog blobs, and restores work', async () => {
    for (const t of [layout.chunkTable, layout.packTable, layout.snapshotTable, layout.itemTable]) await storage.tables.deleteTable(t);
    const lost = await runCli(['snapshots'], env);
    assert.notEqual(lost.code, 0, 'with the tables gone there is nothing to list');
    const r = await runCli(['rebuild-index'], { ...env, password: undefined });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2 snapshots/);
    for (const seq of [1, 2]) {
      const out = join(work, `restore-${seq}`);
      const res = await runCli(['restore', String(seq), out], env);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(diffManifests(states[seq]!, await manifest(out)), []);
    }
    const v = await runCli(['verify', '--read-data'], env);
    assert.equal(v.code, 0, v.stdout);
    const again = await runCli(['backup', src, '--json'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { newChunks: number }).newChunks, 0, 'the rebuilt Bloom filter and index still deduplicate');
  });
});
