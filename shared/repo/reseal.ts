import { createHash } from 'node:crypto';
import { open, sealToPieces } from '../crypto';
import { packTail } from './packFormat';
import type { ResealRequest } from './resealProtocol';

/**
 * Re-seals one new pack's chunks (docs/repository-format.md, "Prune"): each chunk is opened with its
 * old pack's key (AES-GCM checks it, the chunk ID as AAD) and sealed with the new pack's key into the
 * same bytes of `stream` (a sealed chunk keeps its length: the plaintext is copied unchanged, never
 * recompressed), then the pack's tail is made and the whole pack hashed. Pure CPU work: it runs in
 * a re-sealing worker, or on the calling thread when there is none. Throws INTEGRITY naming the
 * chunk that fails to open.
 */
export function resealPack(r: ResealRequest): { stream: Buffer; tail: Buffer; sha256: Buffer } {
  const stream = Buffer.from(r.stream.buffer, r.stream.byteOffset, r.stream.byteLength);
  const newKey = Buffer.from(r.packKey.buffer, r.packKey.byteOffset, r.packKey.byteLength);
  const entries = [];
  let at = 0;
  for (let i = 0; i < r.lengths.length; i++) {
    const id = Buffer.from(r.ids.buffer, r.ids.byteOffset + i * 32, 32);
    const len = r.lengths[i]!;
    const plain = open(r.oldKeys[r.keyOf[i]!]!, stream.subarray(at, at + len), id, `chunk ${id.toString('hex')}`);
    let o = at;
    for (const piece of sealToPieces(newKey, [plain], id)) o += piece.copy(stream, o);
    entries.push({ chunkId: id, offset: at, length: len, rawLength: r.rawLengths[i]! });
    at += len;
  }
  const tail = packTail(newKey, r.packId, entries, Buffer.from(r.sealedKey));
  const sha256 = createHash('sha256').update(stream).update(tail).digest();
  return { stream, tail, sha256 };
}
