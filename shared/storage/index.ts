export type {
  BlobStore,
  AccessTier,
  BlobCapabilities,
  BlobInfo,
  CallOptions,
  DeleteBlobOptions,
  GetBlobOptions,
  ImmutabilityMode,
  ImmutabilityPolicy,
  ListOptions,
  PutBlobOptions,
  SetTierOptions,
} from './blobStore';
export { ONLINE_TIERS } from './blobStore';
export { MAX_BATCH, partitionOf, type TableStore, type Row, type StoredRow, type RowOperation, type QueryOptions, type BatchOptions, type EtagOptions } from './tableStore';
export { AzureBlobStore, type AzureBlobStoreOptions } from './azureBlobStore';
export { AzureTableStore } from './azureTableStore';
export { azureStores } from './azureStores';
export { FaultyBlobStore, FaultyTableStore, type FaultKind, type FaultOptions, type InjectedFault } from './faultyStores';
export { ArchiveTierBlobStore, MIN_DAYS, type ArchiveTierOptions, type EarlyDeletionCharge } from './archiveTierBlobStore';
export { ImmutableBlobStore, type ImmutabilityOptions } from './immutableBlobStore';
export { systemClock, type Clock } from './emulatorState';
export { type StorageConnection, redactConnectionString, isDevelopmentConnection } from './connection';
export { translateStorageError } from './errors';
