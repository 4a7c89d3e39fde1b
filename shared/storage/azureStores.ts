import { AzureBlobStore, type AzureBlobStoreOptions } from './azureBlobStore';
import { AzureTableStore } from './azureTableStore';
import type { BlobStore } from './blobStore';
import type { StorageConnection } from './connection';
import type { TableStore } from './tableStore';

/** Blob and table stores of one storage account (Azure or Azurite). */
export function azureStores(connection: StorageConnection, options: AzureBlobStoreOptions = {}): { blobs: BlobStore; tables: TableStore } {
  return { blobs: new AzureBlobStore(connection, options), tables: new AzureTableStore(connection) };
}
