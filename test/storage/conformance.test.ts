import { after, before, describe } from 'node:test';
import { startTestStorage, type TestStorage } from '../support/azurite';
import { ArchiveTierBlobStore, AzureBlobStore, AzureTableStore, FaultyBlobStore, FaultyTableStore, ImmutableBlobStore, type StorageConnection } from '../../shared/storage';
import { testClock } from './clock';
import { describeBlobContract, describeTableContract } from './contract';


describe('one storage contract, every implementation (Azurite)', () => {
  let storage: TestStorage;
  let connection: StorageConnection;
  const ready = new Promise<StorageConnection>((resolve) => {
    before(async () => {
      storage = await startTestStorage();
      connection = { kind: 'connectionString', connectionString: storage.connectionString };
      resolve(connection);
    });
  });
  after(async () => storage?.stop());
  const azure = async () => new AzureBlobStore(await ready);

  describeBlobContract('AzureBlobStore over Azurite', async () => ({ blobs: await azure() }));
  describeBlobContract('FaultyBlobStore (rate 0)', async () => ({ blobs: new FaultyBlobStore(await azure(), { rate: 0 }) }));
  describeBlobContract('ArchiveTierBlobStore', async () => {
    const c = testClock();
    return { blobs: new ArchiveTierBlobStore(await azure(), { clock: c.clock, stateContainer: 'conformance-archive' }), advance: c.advance, now: c.clock };
  });
  describeBlobContract('ImmutableBlobStore', async () => {
    const c = testClock();
    return { blobs: new ImmutableBlobStore(await azure(), { clock: c.clock, stateContainer: 'conformance-worm' }), advance: c.advance, now: c.clock };
  });
  describeBlobContract('ImmutableBlobStore over ArchiveTierBlobStore', async () => {
    const c = testClock();
    const archive = new ArchiveTierBlobStore(await azure(), { clock: c.clock, stateContainer: 'conformance-stack-archive' });
    return { blobs: new ImmutableBlobStore(archive, { clock: c.clock, stateContainer: 'conformance-stack-worm' }), advance: c.advance, now: c.clock };
  });

  describeTableContract('AzureTableStore over Azurite', async () => ({ tables: new AzureTableStore(await ready) }));
  describeTableContract('FaultyTableStore (rate 0)', async () => ({ tables: new FaultyTableStore(new AzureTableStore(await ready), { rate: 0 }) }));
});
