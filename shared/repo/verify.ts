import { createHash, timingSafeEqual } from 'node:crypto';
import { open, type PrivateKey } from '../crypto';
import { isBackupError } from '../errors';
import type { StoredRow } from '../storage';
import { chunkId, openChunk } from './chunkCodec';
import { joinPayload, openRunKey, splitPayload } from './itemRow';
import { packBlobName, packIndexBlobName } from './layout';
import { decodePackIndex, readPackTail } from './packFormat';
import type { Repository } from './repository';
import { macValid } from './rowMac';
import { RUN_PARTITION_PREFIX, runLogRowAuthentic } from './runLog';
import { directoryRowAuthentic } from './directory';
import { whileReading } from './readers';

/** Partition of restore-session rows in the snapshots table (shared/restore/m365/session.ts). */
export const RESTORE_SESSION_PARTITION = 'restore-session';

export interface VerifyIssue {
  object: string;
  problem: string;
}

export interface VerifyResult {
  readData: boolean;
  packs: number;
  chunks: number;
  items: number;
  snapshots: number;
  unreferencedPacks: number;
  /** Run-log records (Function App runs: roster pages, work-unit outcomes), MAC-checked. */
  runRecords: number;
  /** Tenant directory rows (members, name rows, records such as the last run), MAC-checked. */
  directoryRows: number;
  /** First-release restore-session rows in the snapshots table (left by a crash, until they expire). */
  restoreSessions: number;
  /** Rows of the restore area (sessions, plans, zip records of running restores), MAC-checked. */
  restoreRows: number;
  bytesRead: number;
  issues: VerifyIssue[];
}

export interface VerifyOptions {
  /** With the private key, every pack is downloaded, every chunk decrypted and its ID recomputed. */
  privateKey?: PrivateKey;
  onProgress?: (done: number, total: number) => void;
}

/** What a row of the snapshots table is, by its partition key (docs/repository-format.md, "Tables"). */
export function snapshotTableRowKind(partitionKey: string): 'catalog' | 'run-log' | 'directory' | 'restore-session' | 'unknown' {
  if (/^p[0-9a-f]{32}$/.test(partitionKey)) return 'catalog';
  if (/^d[0-9a-f]{32}$/.test(partitionKey)) return 'directory';
  if (partitionKey.startsWith(RUN_PARTITION_PREFIX)) return 'run-log';
  if (partitionKey === RESTORE_SESSION_PARTITION) return 'restore-session';
  return 'unknown';
}

/**
 * Checks the repository. Without the password: every index row's MAC, every pack blob's presence and
 * size, every pack-index blob's hash and authenticity, and that every chunk an item references is
 * indexed. With it (--read-data): all pack content, chunk by chunk, and all sealed metadata.
 */
export function verifyRepository(repo: Repository, options: VerifyOptions = {}): Promise<VerifyResult> {
  // Under a reader lease: a prune deleting packs meanwhile would be reported as damage.
  return whileReading(repo, 'a verify', () => verifyRead(repo, options));
}

async function verifyRead(repo: Repository, options: VerifyOptions): Promise<VerifyResult> {
  const { tables, blobs, layout, keys } = repo;
  const issues: VerifyIssue[] = [];
  const issue = (object: string, problem: string) => issues.push({ object, problem });
  const result: VerifyResult = { readData: !!options.privateKey, packs: 0, chunks: 0, items: 0, snapshots: 0, unreferencedPacks: 0, runRecords: 0, directoryRows: 0, restoreSessions: 0, restoreRows: 0, bytesRead: 0, issues };
  const rowName = (table: string, r: StoredRow) => `table ${table} row ${r.partitionKey}/${r.rowKey}`;

  // Packs: rows, blobs, pack-index blobs.
  const packs = new Map<string, StoredRow>();
  for await (const r of tables.query(layout.packTable)) {
    if (!macValid(keys.macKey, layout.packTable, r)) issue(rowName(layout.packTable, r), 'was altered (MAC mismatch)');
    packs.set(r.rowKey, r);
  }
  result.packs = packs.size;
  const blobSizes = new Map<string, number>();
  for await (const b of blobs.list(layout.packContainer)) blobSizes.set(b.name.split('/').pop()!, b.size);
  for (const [packId, row] of packs) {
    const size = blobSizes.get(packId);
    if (size === undefined) issue(`pack ${packId}`, 'is missing from blob storage');
    else if (size !== Number(row.size)) issue(`pack ${packId}`, `has ${size} bytes, the index says ${row.size}`);
    try {
      const idx = await blobs.getBlob(layout.metaContainer, packIndexBlobName(packId));
      const hash = createHash('sha256').update(idx).digest();
      if (!(row.indexSha256 instanceof Uint8Array) || !timingSafeEqual(hash, Buffer.from(row.indexSha256)))
        issue(`pack index blob ${packIndexBlobName(packId)}`, 'does not match its recorded hash (altered)');
      else {
        const d = decodePackIndex(keys.indexKey, packId, idx);
        if (d.entries.length !== Number(row.chunks)) issue(`pack index blob ${packIndexBlobName(packId)}`, 'lists a different number of chunks');
      }
    } catch (e) {
      if (!isBackupError(e)) throw e;
      issue(`pack index blob ${packIndexBlobName(packId)}`, e.message);
    }
  }
  for (const id of blobSizes.keys()) if (!packs.has(id)) result.unreferencedPacks++;

  // Chunks.
  const chunks = new Set<string>();
  for await (const r of tables.query(layout.chunkTable)) {
    result.chunks++;
    if (!macValid(keys.macKey, layout.chunkTable, r)) issue(rowName(layout.chunkTable, r), 'was altered (MAC mismatch)');
    else if (!packs.has(String(r.pack))) issue(rowName(layout.chunkTable, r), `points to pack ${r.pack}, which is not indexed`);
    chunks.add(r.rowKey);
  }

  // Snapshots, run keys, source state, run logs and restore sessions share the snapshots table.
  const runKeyRows = new Map<string, StoredRow>();
  for await (const r of tables.query(layout.snapshotTable)) {
    const kind = snapshotTableRowKind(r.partitionKey);
    if (kind === 'unknown') {
      issue(rowName(layout.snapshotTable, r), 'is not a row this program writes (unknown partition)');
      continue;
    }
    if (kind === 'restore-session') {
      // UnMACed by design: its only field is an envelope that the key provider authenticates when the
      // restore opens it; a forged or altered row cannot be opened. Expired ones are leftovers.
      result.restoreSessions++;
      continue;
    }
    if (kind === 'run-log') {
      if (!runLogRowAuthentic(repo, r)) issue(rowName(layout.snapshotTable, r), 'was altered (MAC mismatch)');
      result.runRecords++;
      continue;
    }
    if (kind === 'directory') {
      if (!directoryRowAuthentic(repo, r)) issue(rowName(layout.snapshotTable, r), 'was altered (MAC mismatch or not a directory row)');
      result.directoryRows++;
      continue;
    }
    if (!macValid(keys.macKey, layout.snapshotTable, r)) issue(rowName(layout.snapshotTable, r), 'was altered (MAC mismatch)');
    if (r.rowKey.startsWith('key.')) runKeyRows.set(`${r.partitionKey}/${r.rowKey.slice(4)}`, r);
    else if (r.rowKey !== 'state') result.snapshots++;
  }
  // The restore area: rows of running restores (sessions, plans, zip records), each MACed.
  try {
    for await (const r of tables.query(layout.restoreTable)) {
      result.restoreRows++;
      if (!['session', 'plan', 'zip'].includes(r.partitionKey)) issue(rowName(layout.restoreTable, r), 'is not a row this program writes (unknown partition)');
      else if (!macValid(keys.macKey, layout.restoreTable, r)) issue(rowName(layout.restoreTable, r), 'was altered (MAC mismatch)');
    }
  } catch (e) {
    if (!isBackupError(e, 'NOT_FOUND')) throw e; // repositories made before the restore area: nothing to check
  }

  const runKeys = new Map<string, Buffer>();
  if (options.privateKey)
    for (const [name, r] of runKeyRows) {
      try {
        runKeys.set(name, openRunKey(options.privateKey, name.split('/')[1]!, r.sealedKey as Uint8Array));
      } catch (e) {
        if (!isBackupError(e)) throw e;
        issue(rowName(layout.snapshotTable, r), e.message);
      }
    }

  // Item versions: structure, references, and (with the key) sealed metadata.
  const rows = new Map<string, StoredRow>();
  for await (const r of tables.query(layout.itemTable)) rows.set(`${r.partitionKey}/${r.rowKey}`, r);
  for (const [name, head] of rows) {
    if (name.includes('~')) continue;
    result.items++;
    const group = [head];
    for (let i = 1; i <= Number(head.n ?? 0); i++) {
      const c = rows.get(`${name}~${i}`);
      if (c) group.push(c);
      else issue(rowName(layout.itemTable, head), `is missing continuation row ${i}`);
    }
    const bad = group.find((r) => !macValid(keys.macKey, layout.itemTable, r));
    if (bad) {
      issue(rowName(layout.itemTable, bad), 'was altered (MAC mismatch)');
      continue;
    }
    try {
      const { sealedMeta, chunkIds } = splitPayload(joinPayload(group), 'its payload');
      for (let i = 0; i < chunkIds.length; i += 32) {
        const hex = chunkIds.toString('hex', i, i + 32);
        if (!chunks.has(hex)) {
          issue(rowName(layout.itemTable, head), `references chunk ${hex.slice(0, 16)}…, which is not indexed`);
          break;
        }
      }
      if (options.privateKey) {
        const key = runKeys.get(`${head.partitionKey.split('-')[0]}/${head.k}`);
        if (!key) issue(rowName(layout.itemTable, head), 'refers to an unknown run key');
        else open(key, sealedMeta, Buffer.from(`${head.partitionKey}/${head.rowKey}`), 'its sealed metadata');
      }
    } catch (e) {
      if (!isBackupError(e)) throw e;
      issue(rowName(layout.itemTable, head), e.message);
    }
  }

  // Pack content, chunk by chunk.
  if (options.privateKey) {
    let done = 0;
    for (const [packId, row] of packs) {
      options.onProgress?.(done++, packs.size);
      if (!blobSizes.has(packId)) continue;
      try {
        const data = await blobs.getBlob(layout.packContainer, packBlobName(packId));
        result.bytesRead += data.length;
        const hash = createHash('sha256').update(data).digest();
        if (!(row.sha256 instanceof Uint8Array) || !timingSafeEqual(hash, Buffer.from(row.sha256))) issue(`pack ${packId}`, 'content does not match its recorded hash (altered)');
        const tail = readPackTail(data, packId);
        const packKey = options.privateKey.open(row.sealedKey as Uint8Array, `pack-key:${packId}`, `the key of pack ${packId}`);
        for (const e of tail.openEntries(packKey)) {
          const what = `chunk ${e.chunkId.toString('hex').slice(0, 16)}… in pack ${packId}`;
          try {
            const plain = openChunk(packKey, e.chunkId, data.subarray(e.offset, e.offset + e.length), what);
            if (!timingSafeEqual(chunkId(keys.chunkIdKey, plain), e.chunkId)) issue(`pack ${packId}`, `${what} does not match its ID`);
          } catch (err) {
            if (!isBackupError(err)) throw err;
            issue(`pack ${packId}`, err.message);
          }
        }
      } catch (e) {
        if (!isBackupError(e)) throw e;
        issue(`pack ${packId}`, e.message);
      }
    }
  }
  return result;
}
