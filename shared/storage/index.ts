export { BlobStore, type AccessTier, type BlobInfo, type PutBlobOptions, type GetBlobOptions } from './blobStore';
export { TableStore, MAX_BATCH, type Row, type StoredRow, type RowOperation, type QueryOptions } from './tableStore';
export { type StorageConnection, redactConnectionString, isDevelopmentConnection } from './connection';
export { translateStorageError } from './errors';
