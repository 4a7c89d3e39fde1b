import { randomBytes } from 'node:crypto';
import { open, seal, sealToPublicKey, type PrivateKey } from '../crypto';
import { BackupError } from '../errors';
import type { Repository } from './repository';
import { checkRestoreId, deleteRestoreRow, expiredRestoreRows, getRestoreRow, putRestoreRow, restoreArea } from './restoreArea';
import { SESSION_TTL_MS } from './restoreSessions';

const planBlob = (id: string) => `plans/${id}`;
const purpose = (id: string) => `restore-plan:${id}`;

/**
 * Stores a restore's plan (what it restores: item names, paths, chunks, packs; personal data)
 * sealed under a fresh key that is itself sealed to the repository's public key, so only the
 * password (or the restore's session) opens it. One blob in the restore container, tagged for the
 * lifecycle rule, plus a row with its expiry for the sweep. Computed once, read by every step.
 */
export async function saveRestorePlan(repo: Repository, restoreId: string, plan: unknown, ttlMs = SESSION_TTL_MS): Promise<{ bytes: number }> {
  const id = checkRestoreId(restoreId);
  const { container } = await restoreArea(repo);
  const key = randomBytes(32);
  const body = seal(key, Buffer.from(JSON.stringify(plan)), Buffer.from(purpose(id)));
  // Staged and committed (not put) so the blob carries its tags.
  const block = Buffer.from('00000000').toString('base64');
  await repo.blobs.stageBlock(container, planBlob(id), block, body);
  await repo.blobs.commitBlocks(container, planBlob(id), [block], { tier: 'Hot', tags: RESTORE_TAGS });
  await putRestoreRow(repo, 'plan', id, { sealedKey: sealToPublicKey(repo.config.publicKey, key, purpose(id)), expires: new Date(Date.now() + ttlMs).toISOString() });
  return { bytes: body.length };
}

export async function loadRestorePlan<T>(repo: Repository, privateKey: PrivateKey, restoreId: string): Promise<T> {
  const id = checkRestoreId(restoreId);
  const { container } = await restoreArea(repo);
  const row = await getRestoreRow(repo, 'plan', id);
  if (!row) throw new BackupError('NOT_FOUND', `The plan of restore ${id} has ended or expired; start the restore again.`);
  const key = privateKey.open(row.sealedKey as Uint8Array, purpose(id), `the key of restore plan ${id}`);
  const body = await repo.blobs.getBlob(container, planBlob(id));
  return JSON.parse(open(key, body, Buffer.from(purpose(id)), `restore plan ${id}`).toString('utf8')) as T;
}

export async function deleteRestorePlan(repo: Repository, restoreId: string): Promise<void> {
  const id = checkRestoreId(restoreId);
  const { container } = await restoreArea(repo);
  await repo.blobs.deleteBlob(container, planBlob(id));
  await deleteRestoreRow(repo, 'plan', id);
}

/** Deletes plans whose restore never ended them. Returns how many. */
export async function sweepRestorePlans(repo: Repository, now = new Date()): Promise<number> {
  let n = 0;
  for await (const row of expiredRestoreRows(repo, 'plan', now)) {
    await deleteRestorePlan(repo, row.rowKey);
    n++;
  }
  return n;
}

/** Blob index tags of everything in the restore container: the lifecycle rule deletes them after a day (infra/). */
export const RESTORE_TAGS = { m365backup: 'restore' } as const;
