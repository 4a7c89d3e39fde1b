/**
 * One error class for every failure an admin can reach, with a stable code to branch on
 * (never on message text). Programmer mistakes stay TypeError/RangeError/Error.
 * Messages are one clear sentence and never contain secrets.
 */
export type ErrorCode =
  | 'USAGE'
  | 'NOT_INITIALISED'
  | 'ALREADY_INITIALISED'
  | 'WRONG_PASSWORD'
  | 'CONFIG_CORRUPT'
  | 'INTEGRITY'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PRECONDITION_FAILED'
  | 'BLOB_ARCHIVED'
  | 'IMMUTABLE'
  | 'STORAGE_UNREACHABLE'
  | 'STORAGE'
  | 'KEY_PROVIDER'
  | 'LOCKED'
  | 'TARGET'
  | 'SOURCE';

export class BackupError extends Error {
  override readonly name = 'BackupError';
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
  }
}

export function isBackupError(e: unknown, code?: ErrorCode): e is BackupError {
  return e instanceof Error && e.name === 'BackupError' && (code === undefined || (e as BackupError).code === code);
}
