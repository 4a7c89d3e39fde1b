import { BackupError } from '../errors';

/** Connection-level failures that mean "the storage account is not there". */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']);

interface RestErrorLike {
  statusCode?: number;
  code?: string;
  message?: string;
  details?: { errorCode?: string };
}

/**
 * Translates an Azure SDK error into a BackupError where the caller can act on it.
 * Both 409 and 412 on a conditional write mean "already there / changed" (Azurite and Azure differ).
 * `what` names the operation and object, never a key or a connection string.
 */
export function translateStorageError(e: unknown, what: string): Error {
  const err = e as RestErrorLike;
  const status = err?.statusCode;
  const code = err?.details?.errorCode ?? err?.code ?? '';
  // Aborts are the caller's decision, not a storage failure: they stay AbortErrors (never retried).
  if ((e as { name?: string })?.name === 'AbortError') return e as Error;
  if ((status === 409 || status === 403) && /immutab|legalhold/i.test(code))
    return new BackupError('IMMUTABLE', `${what}: the blob is under an immutability policy or a legal hold.`, { cause: e });
  if (status === 404) return new BackupError('NOT_FOUND', `${what}: not found.`, { cause: e });
  if (status === 409 && code === 'BlobArchived')
    return new BackupError('BLOB_ARCHIVED', `${what}: the blob is in the Archive tier and must be rehydrated first.`, { cause: e });
  if (status === 409) return new BackupError('ALREADY_EXISTS', `${what}: already exists.`, { cause: e });
  if (status === 412) return new BackupError('PRECONDITION_FAILED', `${what}: it was changed by someone else.`, { cause: e });
  if (UNREACHABLE.has(code) || (status === undefined && /ECONNREFUSED|ENOTFOUND|getaddrinfo/.test(err?.message ?? '')))
    return new BackupError('STORAGE_UNREACHABLE', `${what}: the storage account cannot be reached (${code || 'connection failed'}).`, {
      cause: e,
      hint: 'Check --storage / AZURE_STORAGE_CONNECTION_STRING and that the account or Azurite is running.',
    });
  if (e instanceof BackupError) return e;
  return new BackupError('STORAGE', `${what}: storage request failed${status ? ` with HTTP ${status}` : ''}${code ? ` (${code})` : ''}.`, {
    cause: e,
  });
}

/** Runs an SDK call and translates its failure; an already-aborted signal rejects before the call. */
export async function storageCall<T>(what: string, fn: () => Promise<T>, abortSignal?: AbortSignal): Promise<T> {
  abortSignal?.throwIfAborted();
  try {
    return await fn();
  } catch (e) {
    throw translateStorageError(e, what);
  }
}
