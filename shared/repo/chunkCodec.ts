import { deflateRawSync, inflateRawSync, constants as zlib } from 'node:zlib';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Repository } from './repository';
import { open, sealParts, sealToPieces } from '../crypto';
import { BackupError } from '../errors';
import { FLAG_DEFLATE, FLAG_RAW } from './packFormat';

/** Chunk ID = HMAC-SHA-256(chunk-ID key, plaintext): keyed, so the index cannot confirm known files. */
export function chunkId(chunkIdKey: Uint8Array, data: Uint8Array): Buffer {
  return createHmac('sha256', chunkIdKey).update(data).digest();
}

const SAMPLE = 8 * 1024;

/**
 * Compression only where it pays: a sample of the chunk is deflated first (level 1), and the whole
 * chunk is kept compressed only when it shrinks by at least 10%. Incompressible data costs one sample.
 */
function maybeCompress(data: Uint8Array): Uint8Array | undefined {
  if (data.length < 64) return undefined;
  if (data.length > SAMPLE * 2) {
    const mid = Math.floor(data.length / 2);
    const sample = deflateRawSync(data.subarray(mid, mid + SAMPLE), { level: 1 });
    if (sample.length > SAMPLE * 0.85) return undefined;
  }
  const packed = deflateRawSync(data, { level: 1, strategy: zlib.Z_DEFAULT_STRATEGY });
  return packed.length <= data.length * 0.9 ? packed : undefined;
}

const RAW = Buffer.from([FLAG_RAW]);
/** Above this a size hint is not trusted for one allocation (chunks are at most a few MiB). */
const MAX_INFLATE_HINT = 64 * 1024 * 1024;
const DEFLATE = Buffer.from([FLAG_DEFLATE]);

/** sealed chunk = AES-256-GCM(packKey, flag || payload, AAD = chunk ID). */
export function sealChunk(packKey: Uint8Array, id: Uint8Array, data: Uint8Array): Buffer {
  const packed = maybeCompress(data);
  return packed ? sealParts(packKey, [DEFLATE, packed], id) : sealParts(packKey, [RAW, data], id);
}

/** sealChunk's bytes as pieces (see sealToPieces): the chunk workers hand them over without concatenating. */
export function sealChunkPieces(packKey: Uint8Array, id: Uint8Array, data: Uint8Array): Buffer[] {
  const packed = maybeCompress(data);
  return packed ? sealToPieces(packKey, [DEFLATE, packed], id) : sealToPieces(packKey, [RAW, data], id);
}

/**
 * Opens a sealed chunk. `rawLength` (the index's length of the plaintext) is only a size hint: with
 * it a compressed chunk inflates into one buffer of that size instead of 16 KiB pieces joined by a
 * copy; a wrong hint costs speed, never correctness (the caller checks the plaintext's keyed ID).
 */
export function openChunk(packKey: Uint8Array, id: Uint8Array, sealed: Uint8Array, what: string, rawLength?: number): Buffer {
  const plain = open(packKey, sealed, id, what);
  const flag = plain[0];
  if (flag === FLAG_RAW) return plain.subarray(1);
  if (flag === FLAG_DEFLATE) {
    try {
      // One byte over the size, so zlib sees the stream end without asking for another output piece.
      const chunkSize = rawLength !== undefined && rawLength > 0 && rawLength < MAX_INFLATE_HINT ? rawLength + 1 : undefined;
      return inflateRawSync(plain.subarray(1), chunkSize ? { chunkSize: Math.max(zlib.Z_MIN_CHUNK, chunkSize) } : undefined);
    } catch (e) {
      throw new BackupError('INTEGRITY', `${what} does not decompress.`, { cause: e });
    }
  }
  throw new BackupError('INTEGRITY', `${what} has an unknown compression flag ${flag}.`);
}

/** Whether `data` is the chunk `id` names (its keyed hash under the repository's chunk-ID key). */
export function chunkMatches(repo: Repository, id: Uint8Array, data: Uint8Array): boolean {
  const actual = chunkId(repo.keys.chunkIdKey, data);
  return actual.length === id.length && timingSafeEqual(actual, id);
}
