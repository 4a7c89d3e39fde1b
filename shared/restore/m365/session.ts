import { randomBytes } from 'node:crypto';
import { PrivateKey, unwrapEnvelope, wrapEnvelope } from '../../crypto';
import { BackupError } from '../../errors';
import type { Repository } from '../../repo';

const PK = 'restore-session';

/**
 * A restore session: the private key, opened with the password in the HTTP starter, wrapped by the
 * key provider (Key Vault in Azure) into a row that the restore's activities unwrap and that is
 * deleted when the restore ends or expires. Orchestrations carry only the session id, which is
 * useless without the key provider: no password or key ever enters Durable history.
 */
export async function createRestoreSession(repo: Repository, key: PrivateKey, ttlMs = 24 * 3_600_000): Promise<string> {
  const id = randomBytes(16).toString('hex');
  const envelope = await wrapEnvelope(repo.provider, key.raw(), `restore-session:${id}`);
  await repo.tables.create(repo.layout.snapshotTable, { partitionKey: PK, rowKey: `s${id}`, envelope, expires: new Date(Date.now() + ttlMs).toISOString() });
  return id;
}

export async function openRestoreSession(repo: Repository, id: string): Promise<PrivateKey> {
  const row = await repo.tables.get(repo.layout.snapshotTable, PK, `s${id}`);
  if (!row || Date.parse(String(row.expires)) < Date.now()) throw new BackupError('NOT_FOUND', 'The restore session has ended or expired; start the restore again.');
  const raw = await unwrapEnvelope(repo.provider, row.envelope as Uint8Array, `restore-session:${id}`, 'the restore session');
  return new PrivateKey(raw, repo.config.publicKey);
}

export async function endRestoreSession(repo: Repository, id: string): Promise<void> {
  await repo.tables.delete(repo.layout.snapshotTable, PK, `s${id}`);
}
