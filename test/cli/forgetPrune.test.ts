import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli';
import { put, putRandomFile } from '../support/folders';
import { SeededRandom } from '../support/random';
import { startCliSuite, type CliSuite } from '../support/suite';
import { diffManifests, manifest } from '../support/tree';

describe('m365-backup forget / prune (restic grammar), and SIGKILL during prune', () => {
  let suite: CliSuite;
  let round = 0;
  const rnd = new SeededRandom(5);
  const cli = (...args: string[]) => runCli(args, suite.env);
  const src = () => join(suite.work, 'src');
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  /** A backup after replacing this round's files: the previous round's content becomes garbage once forgotten. */
  const changeAndBackup = async () => {
    round++;
    for (let i = 0; i < 3; i++) putRandomFile(src(), `r${round}-${i}.bin`, 150_000 + rnd.int(0, 100_000), rnd);
    if (round > 1) for (let i = 0; i < 3; i++) unlinkSync(join(src(), `r${round - 1}-${i}.bin`));
    await ok('backup', src(), '--quiet');
  };
  const latestRestoresExact = async () => {
    const target = join(suite.work, `restore-${round}`);
    rmSync(target, { recursive: true, force: true });
    await ok('restore', 'latest', target, '--quiet');
    assert.deepEqual(diffManifests(await manifest(src()), await manifest(target)), []);
  };

  before(async () => {
    suite = await startCliSuite('forget', 'forget password');
    await ok('init');
    put(src(), 'stable.txt', 'kept in every snapshot');
    for (let i = 0; i < 4; i++) await changeAndBackup();
  });
  after(async () => suite?.stop());

  test('forget --dry-run lists decisions and changes nothing; forget --keep-last 2 --prune forgets and reclaims', async () => {
    const dry = await ok('forget', '--keep-last', '2', '--dry-run');
    assert.match(dry.stdout, /partition default \(the given rules\): keep 2, would forget 2/);
    assert.match(dry.stdout, /\s1 .* would forget/);
    const snaps = JSON.parse((await ok('snapshots', '--json')).stdout) as unknown[];
    assert.equal(snaps.length, 4);
    const pruneDry = await ok('prune', '--dry-run');
    assert.match(pruneDry.stdout, /would delete 0 item row/);
    const r = await ok('forget', '--keep-last', '2', '--prune');
    assert.match(r.stdout, /keep 2, forgot 2/);
    // Packs are written to Cool (30-day minimum): dead ones wait for it, whole, instead of paying the fee.
    assert.match(r.stdout, /prune deleted [1-9]\d* item row\(s\), 0 chunk\(s\) in 0 pack\(s\)/);
    assert.match(r.stdout, /[1-9]\d* dead pack\(s\) \(.*\) kept for now: [1-9]\d* inside their tier's minimum days; deletable from 20\d\d-/);
    assert.match((await ok('verify', '--read-data')).stdout, /No problems found/);
    const paid = await ok('prune', '--delete-early');
    assert.match(paid.stdout, /prune deleted 0 item row\(s\), [1-9]\d* chunk\(s\) in [1-9]\d* pack\(s\)/);
    assert.match(paid.stdout, /Early-deletion fees this prune caused: ~0\.\d+/);
    assert.equal((JSON.parse((await ok('snapshots', '--json')).stdout) as unknown[]).length, 2);
    assert.match((await ok('verify', '--read-data')).stdout, /No problems found/);
    await latestRestoresExact();
  });

  test('with no --keep-* flag forget applies the stored policy (default: keep everything)', async () => {
    assert.match((await ok('forget')).stdout, /keep everything\): keep 2, forgot 0/);
    await ok('policy', 'set', '--keep-last', '1');
    assert.match((await ok('forget', '--dry-run')).stdout, /\(the default\): keep 1, would forget 1/);
    await ok('policy', 'set', '--partition', 'default', '--legal-hold', 'on');
    assert.match((await ok('forget', '--keep-last', '1')).stdout, /legal hold\): keep 2, forgot 0/, 'a legal hold wins over flags');
    await ok('policy', 'set', '--partition', 'default', '--legal-hold', 'off');
  });

  test('SIGKILL at a random moment of prune: the rerun completes, verify is clean, the latest snapshot exact', async () => {
    for (let trial = 0; trial < 2; trial++) {
      await changeAndBackup();
      await changeAndBackup();
      await ok('forget', '--keep-last', '1');
      const killed = await runCli(['prune', '--delete-early'], suite.env, { killAfterMs: 300 + rnd.int(0, 1500) });
      const rerun = JSON.parse((await ok('prune', '--delete-early', '--json')).stdout) as { deadPacks: number; dryRun: boolean };
      assert.equal(rerun.dryRun, false, `trial ${trial} (first run ${killed.signal ?? `exit ${killed.code}`})`);
      assert.match((await ok('verify', '--read-data')).stdout, /No problems found/);
      await latestRestoresExact();
    }
  });

  test('bad input: prune of an unknown tenant, negative counts, --user on prune', async () => {
    const unknown = await cli('prune', '--tenant', 'nosuch');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /^m365-backup: .*nosuch/m);
    const neg = await cli('forget', '--keep-daily=-1');
    assert.equal(neg.code, 2);
    assert.match(neg.stderr, /keep-daily -1 of the command line is not valid/);
    const user = await cli('prune', '--tenant', 'nosuch', '--user', 'a@b.example');
    assert.equal(user.code, 2);
  });
});
