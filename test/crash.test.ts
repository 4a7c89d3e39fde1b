import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestStorage } from './support/azurite';
import { startCliSuite, type CliSuite } from './support/suite';
import { runCli, type CliEnv } from './support/cli';
import { put, putRandomFile } from './support/folders';
import { SeededRandom } from './support/random';
import { diffManifests, manifest, type Manifest } from './support/tree';

const TRIALS = 10;

describe('crash safety: a backup killed with SIGKILL at random moments', () => {
  let suite: CliSuite;
  let storage: TestStorage;
  let work: string;
  let src: string;
  let env: CliEnv;
  let expected: Manifest;
  let fullRunMs = 0;

  before(async () => {
    suite = await startCliSuite('crash', 'crash test password');
    storage = suite.storage;
    work = suite.work;
    src = join(work, 'src');
    const rnd = new SeededRandom(99);
    for (let i = 0; i < 3; i++) putRandomFile(src, `media/clip-${i}.bin`, 12 * 1024 * 1024, rnd);
    for (let i = 0; i < 600; i++) put(src, `docs/${i % 20}/doc-${i}.txt`, `document ${i}\n`.repeat(50 + (i % 200)));
    for (let i = 0; i < 200; i++) put(src, `blobs/${i}.bin`, rnd.bytes(rnd.int(1000, 200_000)));
    expected = await manifest(src);
    env = suite.env;
    assert.equal((await runCli(['init', '--repository', 'crashbase'], env)).code, 0);
    const started = Date.now();
    const r = await runCli(['backup', src, '--repository', 'crashbase'], env);
    assert.equal(r.code, 0, r.stderr);
    fullRunMs = Date.now() - started;
  });

  after(async () => {
    await suite?.stop();
  });

  test(`${TRIALS} trials: every rerun completes, verify --read-data is clean, the restore is identical`, async () => {
    const rnd = new SeededRandom(2026);
    let killed = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const repo = ['--repository', `crash${trial}`];
      assert.equal((await runCli(['init', ...repo], env)).code, 0);
      // One or two interrupted attempts, each killed somewhere between start-up and the end.
      const attempts = trial % 3 === 2 ? 2 : 1;
      for (let a = 0; a < attempts; a++) {
        const at = Math.floor(fullRunMs * (0.1 + 0.85 * rnd.next()));
        const r = await runCli(['backup', src, ...repo], env, { killAfterMs: at });
        if (r.signal === 'SIGKILL') killed++;
        else assert.equal(r.code, 0, `trial ${trial}: an unkilled run must succeed: ${r.stderr}`);
      }
      const rerun = await runCli(['backup', src, ...repo, '--json'], env);
      assert.equal(rerun.code, 0, `trial ${trial}: rerun failed: ${rerun.stderr}`);
      const v = await runCli(['verify', '--read-data', ...repo], env);
      assert.equal(v.code, 0, `trial ${trial}: verify: ${v.stdout}${v.stderr}`);
      const out = join(work, `restore-${trial}`);
      const res = await runCli(['restore', 'latest', out, ...repo], env);
      assert.equal(res.code, 0, `trial ${trial}: restore: ${res.stderr}`);
      assert.deepEqual(diffManifests(expected, await manifest(out)), [], `trial ${trial}`);
      rmSync(out, { recursive: true, force: true });
      const snaps = await runCli(['snapshots', '--json', ...repo], env);
      const list = JSON.parse(snaps.stdout) as { snapshot: number; items: number }[];
      assert.ok(list.length >= 1);
      assert.equal(list.at(-1)!.items, expected.size + 1, 'the snapshot lists every entry (and the root)');
    }
    assert.ok(killed >= TRIALS * 0.7, `only ${killed} of the attempts were actually killed mid-run`);
  });
});
