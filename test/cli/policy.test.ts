import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, type CliResult } from '../support/cli';
import { startCliSuite, type CliSuite } from '../support/suite';

function assertClearError(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code; stdout: ${r.stdout} stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('hint:'));
  assert.equal(lines.length, 1, `one error line, got: ${r.stderr}`);
  assert.match(lines[0]!, pattern);
}

describe('policy show | set (retention policy stored sealed in the repository)', () => {
  let suite: CliSuite;
  const cli = (...args: string[]) => runCli(args, suite.env);
  const show = async () => JSON.parse((await cli('policy', 'show', '--json')).stdout) as unknown;

  before(async () => {
    suite = await startCliSuite('policy', 'policy password');
    assert.equal((await cli('init')).code, 0);
  });
  after(async () => suite?.stop());

  test('by default the policy keeps everything', async () => {
    const r = await cli('policy', 'show');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /default: keep everything/);
    assert.deepEqual(await show(), { version: 1 });
  });

  test('set stores rules per scope (default, partition), legal hold, and --inherit removes a scope', async () => {
    assert.equal((await cli('policy', 'set', '--keep-daily', '7', '--keep-within', '30d')).code, 0);
    assert.equal((await cli('policy', 'set', '--partition', 'laptop', '--keep-last', '3', '--keep-monthly', '12')).code, 0);
    assert.equal((await cli('policy', 'set', '--partition', 'server', '--legal-hold', 'on')).code, 0);
    assert.deepEqual(await show(), { version: 1, keep: { daily: 7, within: '30d' }, users: { laptop: { keep: { last: 3, monthly: 12 } }, server: { legalHold: true } } });
    const text = (await cli('policy', 'show')).stdout;
    assert.match(text, /default: keep daily 7, within 30d/);
    assert.match(text, /user server: LEGAL HOLD/);
    assert.equal((await cli('policy', 'set', '--partition', 'laptop', '--inherit')).code, 0);
    assert.deepEqual(await show(), { version: 1, keep: { daily: 7, within: '30d' }, users: { server: { legalHold: true } } });
  });

  test('bad input is one clear sentence, exit 2, and changes nothing', async () => {
    const before = await show();
    assertClearError(await cli('policy', 'set', '--keep-daily=-3'), 2, /keep-daily -3 of the default is not valid: give a whole number from 0 to 100000\./);
    assertClearError(await cli('policy', 'set', '--keep-daily', '-3'), 2, /--keep-daily takes a whole number from 0 to 100000/);
    assertClearError(await cli('policy', 'set', '--keep-yearly', '9999999'), 2, /keep-yearly 9999999 .* not valid/);
    assertClearError(await cli('policy', 'set', '--keep-weekly', 'many'), 2, /--keep-weekly takes a whole number/);
    assertClearError(await cli('policy', 'set', '--keep-last', '0'), 2, /would keep no snapshot/);
    assertClearError(await cli('policy', 'set', '--keep-within', '3 weeks'), 2, /is not a duration/);
    assertClearError(await cli('policy', 'set'), 2, /needs --keep-\* flags, --inherit or --legal-hold/);
    assertClearError(await cli('policy', 'set', '--legal-hold', 'maybe'), 2, /--legal-hold takes on or off/);
    assert.deepEqual(await show(), before);
  });

  test('tenant policy of an unknown tenant: clear error', async () => {
    const r = await cli('tenant', 'policy', 'show', '--tenant', 'nosuch');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /nosuch/);
  });
});
