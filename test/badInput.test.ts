import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestStorage } from './support/azurite';
import { startCliSuite, type CliSuite } from './support/suite';
import { runCli, type CliEnv, type CliResult } from './support/cli';
import { put } from './support/folders';
import { repositoryLayout } from '../shared/repo';
import { freePort } from '../shared/local';
import { azuriteConnectionString } from '../shared/local';

/** One clear sentence: a single "m365-backup:" line, no stack trace. */
function assertClearError(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('hint:'));
  assert.equal(lines.length, 1, `expected one error line, got: ${r.stderr}`);
  assert.match(lines[0]!, /^m365-backup: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack traces');
}

describe('bad input gets one clear sentence and the right exit code', () => {
  let suite: CliSuite;
  let storage: TestStorage;
  let work: string;
  let env: CliEnv;

  before(async () => {
    suite = await startCliSuite('bad', 'a good password');
    storage = suite.storage;
    work = suite.work;
    env = suite.env;
    put(join(work, 'src'), 'a.txt', 'hello');
    const notYet = await runCli(['backup', join(work, 'src')], env);
    assertClearError(notYet, 1, /No repository "m365backup" exists/);
    assert.equal((await runCli(['init'], env)).code, 0);
    assert.equal((await runCli(['backup', join(work, 'src')], env)).code, 0);
  });

  after(async () => {
    await suite?.stop();
  });

  test('usage errors exit 2', async () => {
    assertClearError(await runCli(['frobnicate'], env), 2, /Unknown command "frobnicate"/);
    assertClearError(await runCli(['restore', 'latest'], env), 2, /restore takes a snapshot and a target folder/);
    assertClearError(await runCli(['backup', '--no-such-flag', 'x'], env), 2, /Unknown option '--no-such-flag'/);
    assertClearError(await runCli(['snapshots', '--workers', 'many'], env), 2, /--workers takes a whole number/);
  });

  test('a missing source folder', async () => {
    assertClearError(await runCli(['backup', join(work, 'nope')], env), 1, /does not exist or is not a folder/);
  });

  test('an unknown snapshot', async () => {
    assertClearError(await runCli(['restore', '99', join(work, 'r1')], env), 1, /Snapshot 99 does not exist/);
    assertClearError(await runCli(['ls', 'yesterday-ish'], env), 2, /is not a snapshot/);
  });

  test('a restore target that is not empty, not a folder, or cannot be created', async () => {
    put(join(work, 'full'), 'existing.txt', 'x');
    assertClearError(await runCli(['restore', 'latest', join(work, 'full')], env), 1, /is not empty/);
    writeFileSync(join(work, 'a-file'), 'x');
    assertClearError(await runCli(['restore', 'latest', join(work, 'a-file')], env), 1, /exists and is not a folder/);
    assertClearError(await runCli(['restore', 'latest', '/sys/m365-backup-target'], env), 1, /cannot be created/);
    const forced = await runCli(['restore', 'latest', join(work, 'full'), '--force'], env);
    assert.equal(forced.code, 0, forced.stderr);
  });

  test('unreachable storage', async () => {
    const port = await freePort();
    const started = Date.now();
    const r = await runCli(['snapshots'], { ...env, connectionString: azuriteConnectionString(port, port) });
    assertClearError(r, 1, /cannot be reached/);
    assert.doesNotMatch(r.stderr, /AccountKey=[^*]/, 'the account key is never printed');
    assert.ok(Date.now() - started < 60_000);
  });

  test('a corrupted config row', async () => {
    const layout = repositoryLayout('m365backup');
    const row = await storage.tables.get(layout.configTable, 'repository', 'config');
    assert.ok(row);
    const { etag: _e, ...rest } = row;
    await storage.tables.upsert(layout.configTable, { ...rest, publicKey: Buffer.from('short') });
    assertClearError(await runCli(['snapshots'], env), 1, /configuration row is corrupted/);
    await storage.tables.upsert(layout.configTable, { ...rest, chunkAvg: 12345 });
    assertClearError(await runCli(['snapshots'], env), 1, /configuration row .* was altered or is corrupted/);
    await storage.tables.upsert(layout.configTable, rest);
    assert.equal((await runCli(['snapshots'], env)).code, 0);
  });
});
