import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliEnv, type CliResult } from '../support/cli';
import { startCliSuite, type CliSuite } from '../support/suite';

function assertClearError(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('hint:'));
  assert.equal(lines.length, 1, `expected one error line, got: ${r.stderr}`);
  assert.match(lines[0]!, /^m365-backup: /);
  assert.match(lines[0]!, pattern);
}

/** `tenant add` is the registerTenant use case; these runs skip the Graph check (no tenant behind it). */
describe('tenant add registers the tenant and its repository, or nothing', () => {
  let suite: CliSuite;
  let env: CliEnv;
  let secretFile = '';
  const add = (e: CliEnv, ...extra: string[]) =>
    runCli(['tenant', 'add', '--name', 'acme', '--tenant-id', '11111111-2222-3333-4444-555555555555', '--client-id', 'app-1', '--skip-check', ...extra], e);
  const names = async () => (JSON.parse((await runCli(['tenant', 'list', '--json'], env)).stdout) as { name: string }[]).map((t) => t.name);

  before(async () => {
    suite = await startCliSuite('tenant-add', 'the acme password');
    env = suite.env;
    secretFile = join(suite.work, 'secret.txt');
    writeFileSync(secretFile, 'not-a-real-secret\n');
  });
  after(async () => {
    await suite?.stop();
  });

  test('a repository that cannot be created leaves no registration behind', async () => {
    assertClearError(await add({ ...env, password: undefined }, '--client-secret-file', secretFile), 2, /A new password is needed/);
    assert.deepEqual(await names(), [], 'the half-registered tenant was removed');
  });

  test('a certificate file without its private key is refused before anything is stored', async () => {
    const pem = join(suite.work, 'cert-only.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    assertClearError(await add(env, '--certificate', pem), 2, /must hold the certificate and its private key/);
    assertClearError(await runCli(['tenant', 'add', '--name', '', '--tenant-id', 't', '--client-id', 'c', '--client-secret-file', secretFile], env), 2, /Tenant name "" is not valid/);
    assert.deepEqual(await names(), []);
  });

  test('add creates the repository; after remove, a new add reuses it with its password', async () => {
    const first = await add(env, '--client-secret-file', secretFile);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Registered tenant "acme" with its own repository m365backupacme; the client secret is stored wrapped by/);
    assert.deepEqual(await names(), ['acme']);
    assertClearError(await add(env, '--client-secret-file', secretFile), 1, /Tenant "acme" is already registered/);
    const removed = await runCli(['tenant', 'remove', '--name', 'acme'], env);
    assert.match(removed.stdout, /Its backups stay in repository m365backupacme\./);
    assert.deepEqual(await names(), []);
    const again = await add(env, '--client-secret-file', secretFile);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /its existing repository m365backupacme is reused \(its password is unchanged\)/);
    // The reused repository still opens with its password: verify --read-data --tenant reads it.
    const v = await runCli(['verify', '--read-data', '--tenant', 'acme'], env);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  test('--help shows the one restore grammar and --tenant on every repository command', async () => {
    const help = await runCli(['--help'], env);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /restore <snapshot> <target-dir> --tenant <n> \[--user <upn>\] \[--service <s>\]/);
    assert.match(help.stdout, /verify \[--read-data\] \| change-password \| rebuild-index  --tenant <n>/);
    assert.match(help.stdout, /<snapshot> is "latest", a snapshot number .* or a date-time/);
  });
});
