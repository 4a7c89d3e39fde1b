import { createHash, randomBytes } from 'node:crypto';
import { PrivateKey, unwrapEnvelope, wrapEnvelope } from '../crypto';
import { BackupError } from '../errors';
import { ReaderLease } from './readers';
import type { Repository } from './repository';
import { checkRestoreId, deleteRestoreRow, expiredRestoreRows, getRestoreRow, putRestoreRow } from './restoreArea';

/** A session lives at most this long even when its restore never ends (a crash, a terminated orchestration). */
export const SESSION_TTL_MS = 24 * 3_600_000;

/**
 * A restore session: the private key, opened with the password in the HTTP starter, wrapped by the
 * key provider (Key Vault in Azure) into a row of the restore table that the restore's activities
 * unwrap. It is deleted when the restore ends; an expired one is refused and swept. Orchestrations
 * carry only the session id, useless without the key provider: no password or key enters Durable history.
 */
export async function createRestoreSession(repo: Repository, key: PrivateKey, o: { ttlMs?: number; reading?: boolean } = {}): Promise<string> {
  const id = randomBytes(16).toString('hex');
  const ttlMs = o.ttlMs ?? SESSION_TTL_MS;
  // A restore's session holds a reader lease as long as it may live: prune refuses to run meanwhile,
  // and the restore is refused (LOCKED) while a prune runs. Prune's own session (for the key) has none.
  if (o.reading) await ReaderLease.acquire(repo, { what: 'a restore', owner: readerOwner(id), ttlMs });
  try {
    const envelope = await wrapEnvelope(repo.provider, key.raw(), `restore-session:${id}`);
    await putRestoreRow(repo, 'session', id, { envelope, expires: new Date(Date.now() + ttlMs).toISOString() });
  } catch (e) {
    if (o.reading) await ReaderLease.release(repo, readerOwner(id)).catch(() => undefined);
    throw e;
  }
  return id;
}

/** The reader lease's owner: named after the session without revealing its id (messages show it). */
const readerOwner = (id: string) => `restore:${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;

export async function openRestoreSession(repo: Repository, id: string): Promise<PrivateKey> {
  const row = await getRestoreRow(repo, 'session', checkRestoreId(id));
  if (!row || !(Date.parse(String(row.expires)) > Date.now())) throw new BackupError('NOT_FOUND', 'The restore session has ended or expired; start the restore again.');
  const raw = await unwrapEnvelope(repo.provider, row.envelope as Uint8Array, `restore-session:${id}`, 'the restore session');
  return new PrivateKey(raw, repo.config.publicKey);
}

export async function endRestoreSession(repo: Repository, id: string): Promise<void> {
  await deleteRestoreRow(repo, 'session', checkRestoreId(id));
  await ReaderLease.release(repo, readerOwner(id));
}

/** Deletes the sessions whose restore never ended them. Returns how many. */
export async function sweepRestoreSessions(repo: Repository, now = new Date()): Promise<number> {
  let n = 0;
  for await (const row of expiredRestoreRows(repo, 'session', now)) {
    await deleteRestoreRow(repo, 'session', row.rowKey);
    await ReaderLease.release(repo, readerOwner(row.rowKey)).catch(() => undefined);
    n++;
  }
  return n;
}
