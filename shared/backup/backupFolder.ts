import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { BackupError } from '../errors';
import { Catalog, ContentSession, PartitionLock, type Repository, type SnapshotRecord, type SnapshotStats } from '../repo';
import type { RowOperation } from '../storage';
import { walkFolder, type FolderEntry, type WalkFailure } from './folderSource';
import { noProgress, type ProgressListener } from '../progress';
import { RowBatcher } from '../repo/rowBatcher';

export interface FolderBackupOptions {
  partition: string;
  source: string;
  workers?: number;
  onProgress?: ProgressListener;
}

export interface BackupResult {
  snapshot: SnapshotRecord;
  failures: WalkFailure[];
}

/** Files below this size are sent to the chunk workers in batches. */
const SMALL_FILE = 4 * 1024 * 1024;
const BATCH_FILES = 128;
const BATCH_BYTES = 16 * 1024 * 1024;

/** The item identity and change facts of a folder entry (what the keyed tokens are computed from). */
export function folderChangeFacts(e: FolderEntry): (string | number | undefined)[] {
  return [e.type, e.size, e.mtimeNs, e.mode, e.target];
}

/**
 * Backs up a folder into one partition: a complete point-in-time snapshot where only new or
 * changed entries are read, and deletions are recorded. Needs no password. An interrupted run
 * leaves nothing that readers see; the next run resumes, reusing what was already stored.
 */
export async function backupFolder(repo: Repository, options: FolderBackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const onProgress = options.onProgress ?? noProgress;
  const source = resolve(options.source);
  const st = await stat(source).catch(() => undefined);
  if (!st?.isDirectory()) throw new BackupError('SOURCE', `The folder to back up, ${source}, does not exist or is not a folder.`);

  const catalog = new Catalog(repo, options.partition);
  const lock = await PartitionLock.acquire(repo, catalog.partition);
  try {
    onProgress({ phase: 'scanning', itemsDone: 0, bytesDone: 0 });
    let bytesDone = 0;
    let itemsDone = 0;
    let report = () => undefined as void;
    const opening = ContentSession.open(repo, {
      workers: options.workers,
      onBytes: (n) => {
        bytesDone += n;
        report();
      },
    });
    const [walk, snapshots, current] = await Promise.all([walkFolder(source), catalog.snapshots(), catalog.currentVersions()]).catch(async (e: unknown) => {
      await (await opening.catch(() => undefined))?.close().catch(() => undefined);
      throw e;
    });
    const session = await opening;
    const seq = (snapshots.at(-1)?.seq ?? 0) + 1;
    const run = await catalog.createRunKey();
    const failures: WalkFailure[] = [...walk.failures];
    const stats: SnapshotStats = { items: 0, bytes: 0, changedItems: 0, deletedItems: 0, newChunks: 0, newBytes: 0, storedBytes: 0, failedItems: 0, durationMs: 0 };

    // Each entry's item token is computed once, here, and travels with it.
    const toRead: { e: FolderEntry; token: string }[] = [];
    const seen = new Set<string>();
    const rowWriter = new RowBatcher((batch) => catalog.apply(batch));
    const queueOps = (more: RowOperation[]) => rowWriter.add(more);
    const record = (e: FolderEntry, token: string, chunkIds: Buffer, size: number) => {
      const meta = { path: e.path, type: e.type, size, mtimeNs: e.mtimeNs, mode: e.mode, ...(e.target !== undefined ? { target: e.target } : {}) };
      queueOps(catalog.versionOps(seq, run, { itemToken: token, changeToken: catalog.changeToken(...folderChangeFacts({ ...e, size })), meta, chunkIds }, current.get(token)));
      stats.changedItems++;
    };

    for (const e of walk.entries) {
      const token = catalog.itemToken(e.path);
      seen.add(token);
      const prev = current.get(token);
      stats.items++;
      stats.bytes += e.size;
      if (prev && prev.changeToken === catalog.changeToken(...folderChangeFacts(e))) continue;
      if (e.type === 'file' && e.size > 0) toRead.push({ e, token });
      else record(e, token, Buffer.alloc(0), 0);
    }

    const bytesTotal = toRead.reduce((n, c) => n + c.e.size, 0);
    report = () => onProgress({ phase: 'backing up', itemsDone, itemsTotal: toRead.length, bytesDone, bytesTotal });
    try {
      const submit = (batch: { e: FolderEntry; token: string }[]) =>
        session.writer.add(
          batch.map(({ e }) => ({ path: `${source}/${e.path}` })),
          (i, r) => {
            const { e, token } = batch[i]!;
            itemsDone++;
            if (r.error) {
              // The previous version stays current, so the next run retries this file.
              failures.push({ path: e.path, reason: r.error });
              stats.bytes -= e.size;
              if (!current.has(token)) stats.items--;
              return;
            }
            stats.bytes += r.size - e.size;
            record(e, token, r.chunkIds, r.size);
          },
        );
      let batch: { e: FolderEntry; token: string }[] = [];
      let batchBytes = 0;
      for (const c of toRead) {
        if (c.e.size >= SMALL_FILE) {
          submit([c]);
          continue;
        }
        batch.push(c);
        batchBytes += c.e.size;
        if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) {
          submit(batch);
          batch = [];
          batchBytes = 0;
        }
      }
      if (batch.length > 0) submit(batch);
      await session.finish();
    } finally {
      const content = await session.close().catch(() => session.stats);
      stats.newChunks = content.newChunks;
      stats.newBytes = content.newBytes;
      stats.storedBytes = content.storedBytes;
    }

    // Entries gone since the last snapshot end their versions here (deletions are part of the snapshot).
    for (const [token, prev] of current) {
      if (seen.has(token)) continue;
      queueOps(catalog.endOps(seq, prev));
      stats.deletedItems++;
    }
    await rowWriter.close();

    stats.failedItems = failures.length;
    stats.durationMs = Date.now() - started;
    onProgress({ phase: 'committing', itemsDone, itemsTotal: toRead.length, bytesDone, bytesTotal });
    await lock.renew(); // LOCKED if this run lost its lock: never commit over another writer
    const snapshot = await catalog.commit(seq, run, { partitionName: options.partition, source, host: hostname(), failures }, stats, new Date());
    return { snapshot, failures };
  } finally {
    await lock.release().catch(() => undefined);
  }
}
