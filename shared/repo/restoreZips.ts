import { open, seal } from '../crypto';
import type { Repository } from './repository';
import { checkRestoreId, deleteRestoreRow, expiredRestoreRows, getRestoreRow, putRestoreRow, restoreArea } from './restoreArea';
import { RESTORE_TAGS } from './restorePlans';

const BLOCK = 4 * 1024 * 1024;
const zipBlob = (id: string) => `${id}.zip`;
const aad = (id: string) => Buffer.from(`restore-zip:${id}`);

export interface RestoreZipRecord<T> {
  bytes: number;
  expires: Date;
  /** What the restore reports (counts, failures with their paths), sealed with the index key. */
  summary: T;
}

/**
 * Writes a restore's zip (plaintext: it is what the admin downloads) from a byte stream into the
 * restore container in 4 MiB blocks, then records when its link expires. The zip and its record
 * are deleted at that time (`deleteRestoreZip`, or `sweepRestoreZips` for a restore that could not).
 */
export async function writeRestoreZip<T>(repo: Repository, restoreId: string, data: AsyncIterable<Buffer>, expires: Date, summarise: (zipBytes: number) => T): Promise<RestoreZipRecord<T>> {
  const id = checkRestoreId(restoreId);
  const { container } = await restoreArea(repo);
  const ids: string[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let bytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const block = Buffer.from(String(ids.length).padStart(8, '0')).toString('base64');
    await repo.blobs.stageBlock(container, zipBlob(id), block, pending);
    ids.push(block);
    pending = [];
    pendingBytes = 0;
  };
  for await (const chunk of data) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    bytes += chunk.length;
    if (pendingBytes >= BLOCK) await flush();
  }
  await flush();
  await repo.blobs.commitBlocks(container, zipBlob(id), ids, { tier: 'Hot', tags: RESTORE_TAGS });
  const summary = summarise(bytes);
  const sealed = seal(repo.keys.indexKey, Buffer.from(JSON.stringify(summary)), aad(id));
  await putRestoreRow(repo, 'zip', id, { bytes, expires: expires.toISOString(), summary: sealed });
  return { bytes, expires, summary };
}

/** The zip's record; undefined when there is none or its link has expired (the zip is then gone or going). */
export async function readRestoreZip<T>(repo: Repository, restoreId: string, now = new Date()): Promise<RestoreZipRecord<T> | undefined> {
  const id = checkRestoreId(restoreId);
  const row = await getRestoreRow(repo, 'zip', id);
  if (!row) return undefined;
  const expires = new Date(String(row.expires));
  if (!(expires.getTime() > now.getTime())) return undefined;
  const summary = JSON.parse(open(repo.keys.indexKey, row.summary as Uint8Array, aad(id), `the record of restore zip ${id}`).toString('utf8')) as T;
  return { bytes: Number(row.bytes), expires, summary };
}

/** A read-only link to the zip that ends when the zip does. */
export async function restoreZipUrl(repo: Repository, restoreId: string, expires: Date): Promise<string> {
  const id = checkRestoreId(restoreId);
  const { container } = await restoreArea(repo);
  return repo.blobs.readOnlyUrl(container, zipBlob(id), expires);
}

/** Whether the zip blob exists (tests, and the sweep). */
export async function restoreZipExists(repo: Repository, restoreId: string): Promise<boolean> {
  const { container } = await restoreArea(repo);
  return (await repo.blobs.stat(container, zipBlob(checkRestoreId(restoreId)))) !== undefined;
}

export async function deleteRestoreZip(repo: Repository, restoreId: string): Promise<void> {
  const id = checkRestoreId(restoreId);
  const { container } = await restoreArea(repo);
  await repo.blobs.deleteBlob(container, zipBlob(id));
  await deleteRestoreRow(repo, 'zip', id);
}

/** Deletes the zips whose link has expired. Returns how many. */
export async function sweepRestoreZips(repo: Repository, now = new Date()): Promise<number> {
  let n = 0;
  for await (const row of expiredRestoreRows(repo, 'zip', now)) {
    await deleteRestoreZip(repo, row.rowKey);
    n++;
  }
  return n;
}
