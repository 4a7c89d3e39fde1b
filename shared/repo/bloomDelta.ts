import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hmac } from '../crypto';

/**
 * A Bloom delta: the chunk IDs one work unit (one content session) added to the repository, saved
 * as its own small blob instead of rewriting the whole filter. Readers OR them into the base filter
 * (`index/bloom`); a compaction folds them into the base now and then and deletes them.
 * Blob layout (docs/repository-format.md, section 9):
 *   "M365BLD1" || u32le n || n x 32-byte chunk ID || HMAC-SHA-256(row-MAC key, "bloom-delta" || everything before)
 */
const MAGIC = Buffer.from('M365BLD1');
const ID_BYTES = 32;
const MAC_BYTES = 32;
export const BLOOM_DELTA_PREFIX = 'index/bloom.d/';

/** `index/bloom.d/<13-digit epoch ms>-<16 hex random>`: unique, and name order is roughly write order. */
export function bloomDeltaName(now = Date.now(), random: Buffer = randomBytes(8)): string {
  return `${BLOOM_DELTA_PREFIX}${String(now).padStart(13, '0')}-${random.toString('hex')}`;
}

export function encodeBloomDelta(macKey: Uint8Array, ids: Uint8Array[]): Buffer {
  const body = Buffer.alloc(12 + ids.length * ID_BYTES);
  MAGIC.copy(body, 0);
  body.writeUInt32LE(ids.length, 8);
  ids.forEach((id, i) => {
    if (id.length !== ID_BYTES) throw new Error('a chunk ID is 32 bytes');
    body.set(id, 12 + i * ID_BYTES);
  });
  return Buffer.concat([body, hmac(macKey, 'bloom-delta', body)]);
}

/** The IDs of a delta blob, or undefined when it is damaged or not a delta (the caller skips it). */
export function decodeBloomDelta(macKey: Uint8Array, blob: Buffer): Buffer[] | undefined {
  if (blob.length < 12 + MAC_BYTES || !blob.subarray(0, 8).equals(MAGIC)) return undefined;
  const body = blob.subarray(0, blob.length - MAC_BYTES);
  if (!timingSafeEqual(hmac(macKey, 'bloom-delta', body), blob.subarray(blob.length - MAC_BYTES))) return undefined;
  const n = body.readUInt32LE(8);
  if (body.length !== 12 + n * ID_BYTES) return undefined;
  const ids: Buffer[] = [];
  for (let i = 0; i < n; i++) ids.push(Buffer.from(body.subarray(12 + i * ID_BYTES, 12 + (i + 1) * ID_BYTES)));
  return ids;
}
