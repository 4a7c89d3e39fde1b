import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalKeyProvider } from '../shared/crypto';
import { ImmutableBlobStore, type BlobStore } from '../shared/storage';
import { TenantRegistry } from '../shared/tenants/registry';
import { registryCopyContainer } from '../shared/tenants/registryCopy';
import { startTestStorage, type TestStorage } from './support/azurite';

const SECRET = 'contoso client secret 7Q~not-for-logs';

/**
 * The tenant registry survives the ransomware drill: every add and remove writes a sealed copy of
 * its rows into a WORM-locked blob (Azurite through the storage contract's immutability emulator);
 * an attacker with the app's rights deletes the table and plants a forged newer copy; the registry
 * comes back from the newest copy that opens under the key provider, credentials included.
 */
describe('tenant registry copies (WORM emulator)', () => {
  let storage: TestStorage;
  let work: string;
  let blobs: BlobStore;
  const base = 'regdrill';
  const provider = () => LocalKeyProvider.open(join(work, 'local.key'), { create: true });
  const registry = () => new TenantRegistry(storage.tables, provider, base, { blobs, lockDays: 30 });
  const copies = async () => {
    const names: string[] = [];
    for await (const b of blobs.list(registryCopyContainer(base))) names.push(b.name);
    return names.sort();
  };

  before(async () => {
    storage = await startTestStorage();
    work = mkdtempSync(join(tmpdir(), 'm365b-registry-'));
    blobs = new ImmutableBlobStore(storage.blobs, { stateContainer: 'registry-worm' });
  });
  after(async () => {
    await storage?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('add and remove write a locked, sealed copy; the secret is not in it in clear', async () => {
    const r = registry();
    await r.add({ name: 'contoso', tenantId: '11111111-1111-1111-1111-111111111111', clientId: 'app-1' }, { clientSecret: SECRET });
    await r.add({ name: 'fabrikam', tenantId: '22222222-2222-2222-2222-222222222222', clientId: 'app-2' }, { clientSecret: 'fabrikam secret' });
    await r.add({ name: 'tailspin', tenantId: '33333333-3333-3333-3333-333333333333', clientId: 'app-3' }, { clientSecret: 'tailspin secret' });
    await r.remove('tailspin');
    const names = await copies();
    assert.equal(names.length, 4, 'one copy per add and remove');
    const newest = names.at(-1)!;
    const info = await blobs.stat(registryCopyContainer(base), newest);
    assert.ok(info?.immutableUntil && info.immutableUntil.getTime() >= Date.now() + 30 * 86_400_000, 'locked past the horizon');
    await assert.rejects(blobs.deleteBlob(registryCopyContainer(base), newest), (e: Error & { code?: string }) => e.code === 'IMMUTABLE');
    await assert.rejects(blobs.putBlob(registryCopyContainer(base), newest, Buffer.from('x')), (e: Error & { code?: string }) => e.code === 'IMMUTABLE');
    const body = (await blobs.getBlob(registryCopyContainer(base), newest)).toString('latin1');
    for (const clear of [SECRET, 'contoso', 'app-1', '11111111-1111']) assert.ok(!body.includes(clear), `"${clear}" is not readable in the copy`);
  });

  test('the table deleted and a forged newer copy planted: the registry comes back from the newest copy that opens', async () => {
    await storage.tables.deleteTable(`${base}tenants`);
    // The attacker cannot overwrite a locked copy, but can add a newer-looking one.
    await blobs.putBlob(registryCopyContainer(base), 'copies/99991231T235959999Z-ffffffff.bin', Buffer.from('{"rows":[]}'));
    const r = registry();
    const got = await r.get('contoso');
    assert.equal(got.tenantId, '11111111-1111-1111-1111-111111111111');
    assert.deepEqual(r.recovered && { tenants: r.recovered.tenants, skippedCopies: r.recovered.skippedCopies }, { tenants: 2, skippedCopies: 1 });
    assert.deepEqual((await r.list()).map((t) => t.name).sort(), ['contoso', 'fabrikam'], 'the removed tenant stays removed');
    assert.equal((await r.credentials('contoso')).clientSecret, SECRET, 'the sealed credential opens again');
  });

  test('an unknown tenant is still an unknown tenant; an emptied registry of zero tenants stays empty', async () => {
    const r = registry();
    await assert.rejects(r.get('nobody'), (e: Error & { code?: string }) => e.code === 'NOT_FOUND' && /Unknown tenant "nobody"/.test(e.message));
    await r.remove('contoso');
    await r.remove('fabrikam');
    await storage.tables.deleteTable(`${base}tenants`);
    assert.deepEqual(await registry().list(), []);
  });
});
