import { BackupError, isBackupError } from '../errors';
import type { StoredRow } from '../storage';
import type { Repository } from './repository';
import { macValid, withMac } from './rowMac';

/**
 * Online password guessing is slowed per repository (one per tenant), with the state in the
 * repository's config table so every Function App instance sees the same count:
 * after `freeFailures` wrong passwords in a row, each further attempt must wait
 * base * 2^(failures - freeFailures) seconds (capped), and attempts within the wait are refused with
 * THROTTLED (and a Retry-After) without checking the password. The right password resets the count.
 *
 * Row: `<repo>config` table, PartitionKey "throttle", RowKey "password": failures (number), until
 * (ISO time before which attempts are refused, "" for none), updated (ISO time), mac (row MAC).
 */
export interface PasswordThrottlePolicy {
  freeFailures: number;
  baseDelaySeconds: number;
  maxDelaySeconds: number;
}

export const DEFAULT_PASSWORD_THROTTLE: PasswordThrottlePolicy = { freeFailures: 3, baseDelaySeconds: 1, maxDelaySeconds: 15 * 60 };

export const PASSWORD_THROTTLE_PK = 'throttle';
export const PASSWORD_THROTTLE_RK = 'password';

interface ThrottleState {
  failures: number;
  until: number;
  etag?: string;
}

/** Seconds an attempt must wait after `failures` consecutive wrong passwords. */
export function throttleDelaySeconds(policy: PasswordThrottlePolicy, failures: number): number {
  if (failures < policy.freeFailures) return 0;
  return Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** (failures - policy.freeFailures));
}

/**
 * Runs `check` (a password check: unlock, change-password) under the repository's throttle.
 * The attempt is counted before the password is checked, with a conditional write, so parallel
 * guesses (from any number of instances) cannot slip past the count; a right password clears it,
 * and a failure that is not WRONG_PASSWORD (storage down, say) gives the attempt back.
 */
export async function withPasswordThrottle<T>(repo: Repository, check: () => Promise<T>, policy: PasswordThrottlePolicy = DEFAULT_PASSWORD_THROTTLE): Promise<T> {
  const before = await reserveAttempt(repo, policy);
  let result: T;
  try {
    result = await check();
  } catch (e) {
    if (isBackupError(e, 'WRONG_PASSWORD')) {
      const wait = throttleDelaySeconds(policy, before.failures + 1);
      // The wait runs from the failure, not from the reservation (a check can take a second itself);
      // if another attempt has written since, its reservation already holds a later time.
      if (wait > 0) await writeState(repo, { failures: before.failures + 1, until: Date.now() + wait * 1000 }, before.reservedEtag).catch(() => undefined);
      if (wait > 0) throw new BackupError('WRONG_PASSWORD', `${e.message} Too many wrong passwords in a row: the next attempt is accepted in ${wait} s.`, { cause: e, retryAfterSeconds: wait });
      throw e;
    }
    await writeState(repo, { failures: before.failures, until: before.until }, before.reservedEtag).catch(() => undefined);
    throw e;
  }
  await repo.tables.delete(repo.layout.configTable, PASSWORD_THROTTLE_PK, PASSWORD_THROTTLE_RK);
  return result;
}

/** The current count (for `verify`, tests and admins): consecutive failures and the time attempts resume. */
export async function readPasswordThrottle(repo: Repository): Promise<{ failures: number; until?: Date; altered: boolean }> {
  const row = await repo.tables.get(repo.layout.configTable, PASSWORD_THROTTLE_PK, PASSWORD_THROTTLE_RK);
  const state = parseState(repo, row, DEFAULT_PASSWORD_THROTTLE);
  return { failures: state.failures, ...(state.until ? { until: new Date(state.until) } : {}), altered: !!row && !macValid(repo.keys.macKey, repo.layout.configTable, row) };
}

async function reserveAttempt(repo: Repository, policy: PasswordThrottlePolicy): Promise<ThrottleState & { reservedEtag?: string }> {
  for (let attempt = 0; ; attempt++) {
    const row = await repo.tables.get(repo.layout.configTable, PASSWORD_THROTTLE_PK, PASSWORD_THROTTLE_RK);
    const state = parseState(repo, row, policy);
    const now = Date.now();
    if (state.until > now) {
      const seconds = Math.ceil((state.until - now) / 1000);
      throw new BackupError('THROTTLED', `Too many wrong passwords in a row for this repository: try again in ${seconds} s.`, {
        retryAfterSeconds: seconds,
        hint: 'Each further wrong password doubles the wait (up to 15 minutes); the right password resets it.',
      });
    }
    const failures = state.failures + 1;
    const wait = throttleDelaySeconds(policy, failures);
    try {
      const reservedEtag = await writeState(repo, { failures, until: wait > 0 ? now + wait * 1000 : 0 }, state.etag);
      return { ...state, reservedEtag };
    } catch (e) {
      // Another attempt (here or on another instance) counted first: read its count and decide again.
      if (attempt < 20 && (isBackupError(e, 'PRECONDITION_FAILED') || isBackupError(e, 'ALREADY_EXISTS') || isBackupError(e, 'NOT_FOUND'))) continue;
      throw e;
    }
  }
}

/**
 * A row whose MAC does not verify was altered outside the product: it counts as `freeFailures`
 * failures (the next wrong password waits), never as none, so editing the row cannot buy guesses.
 */
function parseState(repo: Repository, row: StoredRow | undefined, policy: PasswordThrottlePolicy): ThrottleState {
  if (!row) return { failures: 0, until: 0 };
  if (!macValid(repo.keys.macKey, repo.layout.configTable, row)) return { failures: policy.freeFailures, until: 0, etag: row.etag };
  const failures = typeof row.failures === 'number' && Number.isInteger(row.failures) && row.failures >= 0 ? row.failures : policy.freeFailures;
  const until = typeof row.until === 'string' && row.until !== '' ? Date.parse(row.until) : 0;
  return { failures, until: Number.isNaN(until) ? 0 : until, etag: row.etag };
}

async function writeState(repo: Repository, s: { failures: number; until: number }, etag: string | undefined): Promise<string> {
  const row = withMac(repo.keys.macKey, repo.layout.configTable, {
    partitionKey: PASSWORD_THROTTLE_PK,
    rowKey: PASSWORD_THROTTLE_RK,
    failures: s.failures,
    until: s.until ? new Date(s.until).toISOString() : '',
    updated: new Date().toISOString(),
  });
  return etag ? repo.tables.update(repo.layout.configTable, row, etag) : repo.tables.create(repo.layout.configTable, row);
}
