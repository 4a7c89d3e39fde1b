import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type AzuriteInstance } from '../../shared/local';
import { azureStores, type BlobStore, type TableStore } from '../../shared/storage';

export interface TestStorage {
  azurite: AzuriteInstance;
  connectionString: string;
  blobs: BlobStore;
  tables: TableStore;
  stop(): Promise<void>;
}

/** A real Azurite from the npm package on free ports, data on disk in a temporary folder. */
export async function startTestStorage(): Promise<TestStorage> {
  const dir = mkdtempSync(join(tmpdir(), 'm365b-azurite-'));
  const azurite = await startAzurite({ location: dir });
  const connection = { kind: 'connectionString' as const, connectionString: azurite.connectionString };
  return {
    azurite,
    connectionString: azurite.connectionString,
    ...azureStores(connection),
    stop: async () => {
      await azurite.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
