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

/*
 * A zip made of parts written in parallel (one per user): each part stages its bytes as blocks of
 * the one zip blob (block id = part number + block number, all the same length), and saves a
 * sealed record (its entries, counts, failures). The last step stages the central directory as the
 * final part and commits every block in order. Staged blocks are invisible until then; a restore
 * that never commits leaves them to the service (dropped after 7 days) and its part records to the
 * lifecycle rule (tagged).
 */
const PART_BLOCK = 8 * 1024 * 1024;
const partBlockId = (part: number, n: number) => Buffer.from(`${String(part).padStart(6, '0')}${String(n).padStart(6, '0')}`).toString('base64');
const partRecordBlob = (id: string, part: number) => `zipparts/${id}/${part}`;
const partAad = (id: string, part: number) => Buffer.from(`restore-zip-part:${id}:${part}`);

/** Stages one part's bytes as blocks of the restore's zip, in order; `write` waits while a block is staged. */
export class ZipPartStager {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private blocks = 0;
  bytes = 0;

  constructor(
    private readonly repo: Repository,
    private readonly restoreId: string,
    private readonly part: number,
  ) {
    checkRestoreId(restoreId);
  }

  async write(data: Buffer): Promise<void> {
    if (data.length === 0) return;
    this.pending.push(data);
    this.pendingBytes += data.length;
    this.bytes += data.length;
    if (this.pendingBytes >= PART_BLOCK) await this.flush();
  }

  /** Stages what is left; returns how many blocks the part has (the commit lists them). */
  async end(): Promise<number> {
    await this.flush();
    return this.blocks;
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const { container } = await restoreArea(this.repo);
    await this.repo.blobs.stageBlock(container, zipBlob(this.restoreId), partBlockId(this.part, this.blocks), this.pending);
    this.blocks++;
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** Saves a part's record (entries with their names: personal data, so sealed with the index key). */
export async function saveZipPart(repo: Repository, restoreId: string, part: number, record: unknown): Promise<void> {
  const id = checkRestoreId(restoreId);
  const { container } = await restoreArea(repo);
  const body = seal(repo.keys.indexKey, Buffer.from(JSON.stringify(record)), partAad(id, part));
  const block = Buffer.from('00000000').toString('base64');
  await repo.blobs.stageBlock(container, partRecordBlob(id, part), block, body);
  await repo.blobs.commitBlocks(container, partRecordBlob(id, part), [block], { tier: 'Hot', tags: RESTORE_TAGS });
}

export async function loadZipPart<T>(repo: Repository, restoreId: string, part: number): Promise<T> {
  const id = checkRestoreId(restoreId);
  const { container } = await restoreArea(repo);
  const body = await repo.blobs.getBlob(container, partRecordBlob(id, part));
  return JSON.parse(open(repo.keys.indexKey, body, partAad(id, part), `part ${part} of restore zip ${id}`).toString('utf8')) as T;
}

/**
 * Commits the zip from its parts' blocks (`blocks[p]` blocks for part p, then the final part's),
 * records the link's expiry and the sealed summary, and deletes the part records.
 */
export async function commitRestoreZip<T>(repo: Repository, restoreId: string, blocks: number[], bytes: number, expires: Date, summary: T): Promise<RestoreZipRecord<T>> {
  const id = checkRestoreId(restoreId);
  const { container } = await restoreArea(repo);
  const ids = blocks.flatMap((n, part) => Array.from({ length: n }, (_, k) => partBlockId(part, k)));
  await repo.blobs.commitBlocks(container, zipBlob(id), ids, { tier: 'Hot', tags: RESTORE_TAGS });
  const sealed = seal(repo.keys.indexKey, Buffer.from(JSON.stringify(summary)), aad(id));
  await putRestoreRow(repo, 'zip', id, { bytes, expires: expires.toISOString(), summary: sealed });
  for (let part = 0; part < blocks.length; part++) await repo.blobs.deleteBlob(container, partRecordBlob(id, part)).catch(() => undefined);
  return { bytes, expires, summary };
}
