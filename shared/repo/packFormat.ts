import { open, seal } from '../crypto';
import { BackupError } from '../errors';

/**
 * Byte layouts of packs and pack-index blobs (docs/repository-format.md, "Packs").
 *
 * pack      = sealedChunk* || sealedHeader || sealedPackKey || trailer
 * trailer   = u32le headerLength || u16le sealedKeyLength || u8 version(1) || u8 0 || "M365PACK"
 * header    = u32le count || entry*        (sealed with the pack key, AAD "pack-header" || packId)
 * entry     = chunkId(32) || u32le offset || u32le length || u32le rawLength
 */
export const PACK_MAGIC = Buffer.from('M365PACK', 'ascii');
export const TRAILER_BYTES = 16;
export const ENTRY_BYTES = 44;
export const PACK_FORMAT_VERSION = 1;

export interface PackEntry {
  chunkId: Buffer;
  offset: number;
  length: number;
  rawLength: number;
}

export interface PackDescription {
  packId: string;
  size: number;
  sha256: Buffer;
  sealedKey: Buffer;
  entries: PackEntry[];
}

export function encodeEntries(entries: PackEntry[]): Buffer {
  const buf = Buffer.alloc(4 + entries.length * ENTRY_BYTES);
  buf.writeUInt32LE(entries.length, 0);
  let p = 4;
  for (const e of entries) {
    e.chunkId.copy(buf, p);
    buf.writeUInt32LE(e.offset, p + 32);
    buf.writeUInt32LE(e.length, p + 36);
    buf.writeUInt32LE(e.rawLength, p + 40);
    p += ENTRY_BYTES;
  }
  return buf;
}

export function decodeEntries(buf: Buffer, what: string): PackEntry[] {
  if (buf.length < 4) throw new BackupError('INTEGRITY', `${what} has a truncated entry table.`);
  const n = buf.readUInt32LE(0);
  if (buf.length !== 4 + n * ENTRY_BYTES) throw new BackupError('INTEGRITY', `${what} has a malformed entry table.`);
  const out: PackEntry[] = [];
  for (let i = 0, p = 4; i < n; i++, p += ENTRY_BYTES) {
    out.push({ chunkId: Buffer.from(buf.subarray(p, p + 32)), offset: buf.readUInt32LE(p + 32), length: buf.readUInt32LE(p + 36), rawLength: buf.readUInt32LE(p + 40) });
  }
  return out;
}

const headerAad = (packId: string) => Buffer.concat([Buffer.from('pack-header'), Buffer.from(packId, 'hex')]);

/** The bytes that end a pack: sealed header, sealed pack key and trailer. */
export function packTail(packKey: Buffer, packId: string, entries: PackEntry[], sealedKey: Buffer): Buffer {
  const header = seal(packKey, encodeEntries(entries), headerAad(packId));
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(header.length, 0);
  trailer.writeUInt16LE(sealedKey.length, 4);
  trailer.writeUInt8(PACK_FORMAT_VERSION, 6);
  PACK_MAGIC.copy(trailer, 8);
  return Buffer.concat([header, sealedKey, trailer]);
}

/** Parses a whole pack's tail: its sealed key and (once the key is opened) its entries. */
export function readPackTail(pack: Buffer, packId: string): { sealedKey: Buffer; openEntries(packKey: Buffer): PackEntry[] } {
  const what = `pack ${packId}`;
  if (pack.length < TRAILER_BYTES || !pack.subarray(pack.length - 8).equals(PACK_MAGIC))
    throw new BackupError('INTEGRITY', `${what} has no valid trailer.`);
  const t = pack.subarray(pack.length - TRAILER_BYTES);
  const headerLen = t.readUInt32LE(0);
  const keyLen = t.readUInt16LE(4);
  const keyStart = pack.length - TRAILER_BYTES - keyLen;
  const headerStart = keyStart - headerLen;
  if (headerStart < 0 || t.readUInt8(6) !== PACK_FORMAT_VERSION) throw new BackupError('INTEGRITY', `${what} has a malformed trailer.`);
  return {
    sealedKey: Buffer.from(pack.subarray(keyStart, keyStart + keyLen)),
    openEntries: (packKey) => decodeEntries(open(packKey, pack.subarray(headerStart, keyStart), headerAad(packId), `the header of ${what}`), what),
  };
}

/**
 * pack-index blob = sealed with the index key (AAD "pack-index" || packId):
 * u8 version || u64le packSize || sha256(32) || u16le sealedKeyLength || sealedKey || entries
 */
export function encodePackIndex(indexKey: Buffer, d: PackDescription): Buffer {
  const head = Buffer.alloc(1 + 8 + 32 + 2);
  head.writeUInt8(PACK_FORMAT_VERSION, 0);
  head.writeBigUInt64LE(BigInt(d.size), 1);
  d.sha256.copy(head, 9);
  head.writeUInt16LE(d.sealedKey.length, 41);
  const body = Buffer.concat([head, d.sealedKey, encodeEntries(d.entries)]);
  return seal(indexKey, body, Buffer.concat([Buffer.from('pack-index'), Buffer.from(d.packId, 'hex')]));
}

export function decodePackIndex(indexKey: Buffer, packId: string, blob: Buffer): PackDescription {
  const what = `pack index of ${packId}`;
  const body = open(indexKey, blob, Buffer.concat([Buffer.from('pack-index'), Buffer.from(packId, 'hex')]), `the ${what}`);
  if (body.length < 43 || body.readUInt8(0) !== PACK_FORMAT_VERSION) throw new BackupError('INTEGRITY', `The ${what} is malformed.`);
  const size = Number(body.readBigUInt64LE(1));
  const sha256 = Buffer.from(body.subarray(9, 41));
  const keyLen = body.readUInt16LE(41);
  const sealedKey = Buffer.from(body.subarray(43, 43 + keyLen));
  return { packId, size, sha256, sealedKey, entries: decodeEntries(body.subarray(43 + keyLen), `the ${what}`) };
}

/** Opens one sealed chunk: AES-256-GCM with the chunk ID as AAD, then the compression flag. */
export const FLAG_RAW = 0;
export const FLAG_DEFLATE = 1;
