import { redactSecrets } from './redact';

/**
 * One error class for every failure an admin can reach, with a stable code to branch on
 * (never on message text). Programmer mistakes stay TypeError/RangeError/Error.
 * Messages are one clear sentence and never contain secrets: the constructor redacts them, so a
 * message built from an SDK's error text is safe wherever it goes. docs/errors.md lists the codes.
 */
export type ErrorCode =
  | 'USAGE'
  | 'NOT_INITIALISED'
  | 'ALREADY_INITIALISED'
  | 'WRONG_PASSWORD'
  | 'CREDENTIALS'
  | 'CONSENT_MISSING'
  | 'THROTTLED'
  | 'CONFIG_CORRUPT'
  | 'INTEGRITY'
  | 'NOT_FOUND'
  | 'GONE'
  | 'RESYNC_REQUIRED'
  | 'ALREADY_EXISTS'
  | 'PRECONDITION_FAILED'
  | 'PAYLOAD_TOO_LARGE'
  | 'BLOB_ARCHIVED'
  | 'IMMUTABLE'
  | 'STORAGE_UNREACHABLE'
  | 'STORAGE'
  | 'KEY_PROVIDER'
  | 'LOCKED'
  | 'IMMUTABLE'
  | 'TARGET'
  | 'SOURCE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN';

/** What each code means to the HTTP API and the CLI. One table, used by functions/http and cli/. */
export const ERROR_CODES: Readonly<Record<ErrorCode, { http: number; exit: number }>> = {
  USAGE: { http: 400, exit: 2 },
  NOT_INITIALISED: { http: 404, exit: 1 },
  ALREADY_INITIALISED: { http: 409, exit: 1 },
  WRONG_PASSWORD: { http: 401, exit: 1 },
  CREDENTIALS: { http: 502, exit: 1 },
  CONSENT_MISSING: { http: 403, exit: 1 },
  THROTTLED: { http: 429, exit: 1 },
  CONFIG_CORRUPT: { http: 500, exit: 1 },
  INTEGRITY: { http: 500, exit: 1 },
  NOT_FOUND: { http: 404, exit: 1 },
  GONE: { http: 410, exit: 1 },
  RESYNC_REQUIRED: { http: 502, exit: 1 },
  ALREADY_EXISTS: { http: 409, exit: 1 },
  PRECONDITION_FAILED: { http: 412, exit: 1 },
  PAYLOAD_TOO_LARGE: { http: 413, exit: 2 },
  BLOB_ARCHIVED: { http: 409, exit: 1 },
  STORAGE_UNREACHABLE: { http: 503, exit: 1 },
  STORAGE: { http: 500, exit: 1 },
  KEY_PROVIDER: { http: 500, exit: 1 },
  LOCKED: { http: 409, exit: 1 },
  IMMUTABLE: { http: 409, exit: 1 },
  TARGET: { http: 500, exit: 1 },
  SOURCE: { http: 502, exit: 1 },
  UNAUTHENTICATED: { http: 401, exit: 1 },
  FORBIDDEN: { http: 403, exit: 1 },
};

export interface BackupErrorOptions {
  hint?: string;
  cause?: unknown;
  /** The HTTP status a remote service (Graph, Key Vault) answered, when one did. */
  status?: number;
  /** The remote service's own error code (e.g. Graph's "syncStateNotFound"), for notes and logs. */
  remoteCode?: string;
  /** When to try again (THROTTLED): seconds, as in a Retry-After header. */
  retryAfterSeconds?: number;
}

export class BackupError extends Error {
  override readonly name = 'BackupError';
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly status?: number;
  readonly remoteCode?: string;
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, options: BackupErrorOptions = {}) {
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.hint !== undefined) this.hint = redactSecrets(options.hint);
    if (options.status !== undefined) this.status = options.status;
    if (options.remoteCode !== undefined) this.remoteCode = options.remoteCode;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = Math.max(1, Math.ceil(options.retryAfterSeconds));
  }
}

export function isBackupError(e: unknown, code?: ErrorCode): e is BackupError {
  return e instanceof Error && e.name === 'BackupError' && (code === undefined || (e as BackupError).code === code);
}

/** The HTTP status of an error: its code's, or 500 for anything that is not a BackupError. */
export const httpStatusOf = (e: unknown): number => (isBackupError(e) ? (ERROR_CODES[e.code]?.http ?? 500) : 500);

/** The CLI exit code of an error: 2 for usage, 1 otherwise (3 is "finished with failed items", not an error). */
export const exitCodeOf = (e: unknown): number => (isBackupError(e) ? (ERROR_CODES[e.code]?.exit ?? 1) : 1);
