import { open, seal, type PrivateKey } from '../crypto';
import { BackupError } from '../errors';
import type { Row, StoredRow } from '../storage';
import { OPEN_END, padSeq } from './layout';
import { withMac } from './rowMac';

/**
 * An item version row (docs/repository-format.md, "Item versions"):
 *   PartitionKey = partition token, RowKey = itemToken "." from
 *   f = first snapshot it belongs to, t = first snapshot it no longer belongs to (OPEN_END: current)
 *   ct = keyed change token, g = keyed group token (optional), cc = keyed content token (optional), k = id of the run key that seals its metadata,
 *   d0..d14 = payload split into properties, n = continuation rows ("RowKey~1", ...), mac.
 * payload = u32le sealedMetaLength || sealedMeta || chunkIds (32 bytes each, content order)
 * Chunk IDs are in the clear so structural verify and pruning need no password; names are sealed.
 */
export const PROP_BYTES = 60_000;
export const PROPS_PER_ROW = 15;

export interface NewVersion {
  itemToken: string;
  changeToken: string;
  meta: Record<string, unknown>;
  chunkIds: Buffer;
  /** Keyed token of the item's group (a mail folder, a drive): lets a backup end a whole group without reading names. */
  groupToken?: string;
  /** Keyed token of the content alone (OneDrive's cTag): equal means the chunks can be reused without fetching. */
  contentToken?: string;
}

export interface ItemVersion extends NewVersion {
  from: number;
  to: number;
}

export const itemRowKey = (itemToken: string, from: number) => `${itemToken}.${padSeq(from)}`;

export function encodeItemRows(
  table: string,
  macKey: Buffer,
  partition: string,
  from: number,
  run: { keyId: string; key: Buffer },
  v: NewVersion,
): Row[] {
  const rowKey = itemRowKey(v.itemToken, from);
  const sealedMeta = seal(run.key, Buffer.from(JSON.stringify(v.meta)), Buffer.from(`${partition}/${rowKey}`));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(sealedMeta.length, 0);
  const payload = Buffer.concat([head, sealedMeta, v.chunkIds]);
  const perRow = PROP_BYTES * PROPS_PER_ROW;
  const pieces = Math.max(1, Math.ceil(payload.length / perRow));
  const rows: Row[] = [];
  for (let r = 0; r < pieces; r++) {
    const part = payload.subarray(r * perRow, (r + 1) * perRow);
    const row: Row = r === 0
      ? { partitionKey: partition, rowKey, f: from, t: OPEN_END, ct: v.changeToken, ...(v.groupToken ? { g: v.groupToken } : {}), ...(v.contentToken ? { cc: v.contentToken } : {}), k: run.keyId, n: pieces - 1 }
      : { partitionKey: partition, rowKey: `${rowKey}~${r}`, f: from };
    for (let i = 0; i * PROP_BYTES < part.length; i++) row[`d${i}`] = part.subarray(i * PROP_BYTES, (i + 1) * PROP_BYTES);
    rows.push(withMac(macKey, table, row));
  }
  return rows;
}

/** Joins d0..d14 of a row and its continuation rows (in order). */
export function joinPayload(rows: Row[]): Buffer {
  const parts: Buffer[] = [];
  for (const row of rows)
    for (let i = 0; i < PROPS_PER_ROW; i++) {
      const v = row[`d${i}`];
      if (!(v instanceof Uint8Array)) break;
      parts.push(Buffer.from(v));
    }
  return Buffer.concat(parts);
}

export function splitPayload(payload: Buffer, what: string): { sealedMeta: Buffer; chunkIds: Buffer } {
  if (payload.length < 4) throw new BackupError('INTEGRITY', `${what} is missing.`);
  const len = payload.readUInt32LE(0);
  if (4 + len > payload.length || (payload.length - 4 - len) % 32 !== 0) throw new BackupError('INTEGRITY', `${what} is malformed.`);
  return { sealedMeta: payload.subarray(4, 4 + len), chunkIds: payload.subarray(4 + len) };
}

/** Decodes a version; needs the opened run keys (restore/ls side). */
export function decodeItem(rows: StoredRow[], runKeys: Map<string, Buffer>): ItemVersion {
  const head = rows[0]!;
  const what = `item row ${head.partitionKey}/${head.rowKey}`;
  const key = runKeys.get(String(head.k));
  if (!key) throw new BackupError('INTEGRITY', `${what} refers to an unknown run key.`);
  const { sealedMeta, chunkIds } = splitPayload(joinPayload(rows), `the payload of ${what}`);
  const meta = JSON.parse(open(key, sealedMeta, Buffer.from(`${head.partitionKey}/${head.rowKey}`), what).toString('utf8')) as Record<string, unknown>;
  return {
    itemToken: head.rowKey.split('.')[0]!,
    changeToken: String(head.ct),
    ...(head.g ? { groupToken: String(head.g) } : {}),
    from: Number(head.f),
    to: Number(head.t),
    meta,
    chunkIds,
  };
}

export function openRunKey(privateKey: PrivateKey, keyId: string, sealedKey: Uint8Array): Buffer {
  return privateKey.open(sealedKey, `run-key:${keyId}`, `run key ${keyId}`);
}
