import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCliSuite, type CliSuite } from '../support/suite';
import { runCli } from '../support/cli';
import { put } from '../support/folders';

describe('folder restore: what the target cannot hold fails only that item', () => {
  let suite: CliSuite;
  const longName = `${'n'.repeat(240)}.txt`;

  before(async () => {
    suite = await startCliSuite('foldertarget', 'folder target password');
    const src = join(suite.work, 'src');
    put(src, 'short.txt', 'short');
    put(src, `deep/${longName}`, 'long');
    assert.equal((await runCli(['init'], suite.env)).code, 0);
    assert.equal((await runCli(['backup', src], suite.env)).code, 0);
  });
  after(async () => {
    await suite?.stop();
  });

  test('a path longer than the target allows is a listed failure, the rest is restored, exit 3', async () => {
    // A target so deep that "<target>/deep/<240-byte name>" passes PATH_MAX (4096) while short names fit.
    let target = join(suite.work, 't');
    while (target.length < 3800) target = join(target, 'd'.repeat(200));
    mkdirSync(target, { recursive: true });
    const r = await runCli(['restore', 'latest', target, '--json'], suite.env);
    assert.equal(r.code, 3, r.stderr);
    const out = JSON.parse(r.stdout) as { failures: { path: string; reason: string }[] };
    assert.deepEqual(out.failures.map((f) => f.path), [`deep/${longName}`]);
    assert.match(out.failures[0]!.reason, /cannot be written \(ENAMETOOLONG\)/);
    assert.equal(readFileSync(join(target, 'short.txt'), 'utf8'), 'short');
  });
});
