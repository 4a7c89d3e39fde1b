import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lease, type Repository } from '../../../shared/repo';
import { lockBlobName } from '../../../shared/repo/layout';
import { FaultyBlobStore } from '../../../shared/storage';
import { startTestRepository, type TestRepository } from '../../support/repository';

describe('Lease renewal (shared/repo/lock.ts)', () => {
  let setup: TestRepository | undefined;
  let blobs: FaultyBlobStore;
  let repo: Repository;

  before(async () => {
    setup = await startTestRepository({
      name: 'locktest',
      password: 'lock test',
      stores: (storage) => ({ blobs: (blobs = new FaultyBlobStore(storage.blobs)), tables: storage.tables }),
    });
    repo = setup.repo;
  });
  after(async () => {
    await setup?.stop();
  });

  test('a renewal whose reply was lost (it landed) is not a lost lease: the next renewal adopts our own write', async () => {
    const lease = await Lease.acquire(repo, 'lostreply', { autoRenew: false, what: 'a test' });
    blobs.failNext('putBlob', 'lostAck'); // the write lands, its reply does not: our ETag is now stale
    await assert.rejects(lease.renew(), /injected lost reply/);
    await lease.renew(); // If-Match fails on our own write: the blob still names us, so it is ours
    await lease.renew();
    const holder = await Lease.holder(repo, 'lostreply');
    assert.ok(holder && holder.expires > Date.now() + 60_000, 'renewed for its TTL');
    await lease.release();
    assert.equal(await Lease.holder(repo, 'lostreply'), undefined);
  });

  test('a lease taken over by someone else is lost: LOCKED, and the other holder keeps it', async () => {
    const lease = await Lease.acquire(repo, 'takeover', { autoRenew: false, what: 'a test' });
    const other = { owner: 'run:someone-else', host: 'elsewhere', pid: 1, acquired: new Date().toISOString(), process: false, expires: Date.now() + 300_000 };
    await repo.blobs.putBlob(repo.layout.metaContainer, lockBlobName('takeover'), Buffer.from(JSON.stringify(other)));
    await assert.rejects(lease.renew(), (e: Error & { code?: string }) => e.code === 'LOCKED' && /was lost/.test(e.message));
    assert.equal((await Lease.holder(repo, 'takeover'))?.owner, 'run:someone-else');
    await lease.release(); // releases nothing it does not hold
    assert.equal((await Lease.holder(repo, 'takeover'))?.owner, 'run:someone-else');
  });
});
