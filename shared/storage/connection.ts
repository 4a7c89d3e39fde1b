import type { TokenCredential } from '@azure/identity';

/**
 * How to reach a storage account: a connection string (Azurite, shared key) or
 * account URLs plus a TokenCredential (managed identity in Azure; shared-key access is off there).
 */
export type StorageConnection =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'credential'; blobUrl: string; tableUrl: string; credential: TokenCredential };

/** Retry policy shared by both SDKs: short enough that an unreachable account fails in seconds. */
export const STORAGE_RETRY = { maxTries: 4, retryDelayInMs: 300, maxRetryDelayInMs: 4000, tryTimeoutInMs: 120_000 };

/** Parses the endpoints out of a connection string, for messages and for the Tables client. */
export function isDevelopmentConnection(connectionString: string): boolean {
  return /UseDevelopmentStorage=true|127\.0\.0\.1|localhost/i.test(connectionString);
}

/** Keeps account keys and SAS tokens out of anything printed. */
export function redactConnectionString(s: string): string {
  return s.replace(/(AccountKey|SharedAccessSignature|sig)=([^;&]+)/gi, '$1=***');
}
