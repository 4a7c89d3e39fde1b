import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestStorage } from './support/azurite';
import { startCliSuite, type CliSuite } from './support/suite';
import { put } from './support/folders';
import { diffManifests, manifest } from './support/tree';
import { loopbackCertificate } from '../simulator/tls';
import { startKeyVaultFake, type KeyVaultFake } from '../simulator/keyVaultFake';

describe('Azure Key Vault protects the keys (real SDK, fake vault over HTTPS)', () => {
  let suite: CliSuite;
  let storage: TestStorage;
  let vault: KeyVaultFake;
  let work: string;
  let certFile: string;

  before(async () => {
    suite = await startCliSuite('kv');
    storage = suite.storage;
    work = suite.work;
    certFile = join(work, 'vault-cert.pem');
    vault = await startKeyVaultFake(await loopbackCertificate(certFile));
  });

  after(async () => {
    await vault?.stop();
    await suite?.stop();
  });

  test('init, backup, restore and change-password through Key Vault', async () => {
    const src = join(work, 'src');
    put(src, 'mail/export.eml', 'From: a@example.com\r\n\r\nhello\r\n');
    put(src, 'docs/plan.txt', 'the plan\n'.repeat(1000));
    const target = join(work, 'restored');
    const scenario = join(__dirname, 'support', 'keyVaultScenario.js');
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [scenario, vault.url, storage.connectionString, src, target], {
        env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: certFile },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(out.code, 0, out.stderr);
    const result = JSON.parse(out.stdout) as { items: number; files: number; oldRejected: boolean; wrongKey: string; scopes: string[] };
    assert.equal(result.files, 2);
    assert.ok(result.oldRejected, 'the old password must be rejected after change-password');
    assert.match(result.wrongKey, /was wrapped by another key .*m365-backup-wrap.*not by the configured Key Vault key no-such-key/);
    assert.deepEqual(result.scopes, ['https://vault.azure.net/.default']);
    assert.deepEqual(diffManifests(await manifest(src), await manifest(target)), []);
    assert.equal(vault.calls.get('create'), 1, 'the wrapping key is created once at init');
    assert.ok((vault.calls.get('unwrapkey') ?? 0) >= 4, 'every open unwraps in the vault');
    assert.equal(vault.calls.get('wrapkey') ?? 0, 0, 'wrapping uses the public key locally');
  });
});
