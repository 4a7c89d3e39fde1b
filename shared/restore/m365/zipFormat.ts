import { crc32 } from 'node:zlib';

/**
 * A zip written in parts that are made independently (one per user, in parallel) and joined by
 * position: each part is a run of entries (local header, stored data, data descriptor) whose
 * offsets are relative to the part; the central directory, written last, adds each part's start.
 * Entries are stored (method 0; most content is compressed already, and speed matters more),
 * names UTF-8 (flag 11), sizes and CRC in a data descriptor (flag 3), ZIP64 where a size, an
 * offset or the entry count needs it. An entry left out of the central directory (a file whose
 * content failed midway) is invisible to zip readers.
 */
export interface ZipEntry {
  name: string;
  dir: boolean;
  crc: number;
  size: number;
  /** Offset of the local header, relative to the part. */
  offset: number;
  /** Modification time, ms since 1970. */
  mtime: number;
}

const MAX32 = 0xffffffff;
const FLAGS = 0x0808; // bit 3: data descriptor; bit 11: UTF-8 names

function dosDateTime(ms: number): { date: number; time: number } {
  const d = new Date(Number.isFinite(ms) ? ms : 0);
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
  };
}

/** The local header of an entry whose size is known (ZIP64 extra when it is 4 GiB or more). */
export function localHeader(name: string, size: number, mtime: number): Buffer {
  const n = Buffer.from(name, 'utf8');
  const zip64 = size >= MAX32;
  const h = Buffer.alloc(30 + n.length + (zip64 ? 20 : 0));
  const { date, time } = dosDateTime(mtime);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(zip64 ? 45 : 20, 4);
  h.writeUInt16LE(FLAGS, 6);
  h.writeUInt16LE(0, 8); // stored
  h.writeUInt16LE(time, 10);
  h.writeUInt16LE(date, 12);
  // CRC and sizes follow in the data descriptor (0 here; 0xFFFFFFFF with the ZIP64 extra).
  h.writeUInt32LE(zip64 ? MAX32 : 0, 18);
  h.writeUInt32LE(zip64 ? MAX32 : 0, 22);
  h.writeUInt16LE(n.length, 26);
  h.writeUInt16LE(zip64 ? 20 : 0, 28);
  n.copy(h, 30);
  if (zip64) {
    h.writeUInt16LE(0x0001, 30 + n.length);
    h.writeUInt16LE(16, 32 + n.length); // sizes 0 here, in the descriptor
  }
  return h;
}

/** The data descriptor after an entry's data (64-bit sizes for a ZIP64 entry). */
export function dataDescriptor(crc: number, size: number): Buffer {
  const zip64 = size >= MAX32;
  const d = Buffer.alloc(zip64 ? 24 : 16);
  d.writeUInt32LE(0x08074b50, 0);
  d.writeUInt32LE(crc >>> 0, 4);
  if (zip64) {
    d.writeBigUInt64LE(BigInt(size), 8);
    d.writeBigUInt64LE(BigInt(size), 16);
  } else {
    d.writeUInt32LE(size, 8);
    d.writeUInt32LE(size, 12);
  }
  return d;
}

export const entryCrc = (data: Uint8Array, previous = 0) => crc32(data, previous);

/** One central directory record, the entry's part starting at `base`. */
export function centralRecord(e: ZipEntry, base: number): Buffer {
  const name = Buffer.from(e.dir && !e.name.endsWith('/') ? `${e.name}/` : e.name, 'utf8');
  const offset = base + e.offset;
  const bigSize = e.size >= MAX32;
  const bigOffset = offset >= MAX32;
  const extra = (bigSize ? 16 : 0) + (bigOffset ? 8 : 0);
  const r = Buffer.alloc(46 + name.length + (extra ? 4 + extra : 0));
  const { date, time } = dosDateTime(e.mtime);
  r.writeUInt32LE(0x02014b50, 0);
  r.writeUInt16LE((3 << 8) | 45, 4); // made by Unix, 4.5
  r.writeUInt16LE(extra ? 45 : 20, 6);
  r.writeUInt16LE(FLAGS, 8);
  r.writeUInt16LE(0, 10);
  r.writeUInt16LE(time, 12);
  r.writeUInt16LE(date, 14);
  r.writeUInt32LE(e.crc >>> 0, 16);
  r.writeUInt32LE(bigSize ? MAX32 : e.size, 20);
  r.writeUInt32LE(bigSize ? MAX32 : e.size, 24);
  r.writeUInt16LE(name.length, 28);
  r.writeUInt16LE(extra ? 4 + extra : 0, 30);
  r.writeUInt32LE((e.dir ? 0o40755 : 0o100644) * 0x10000 + (e.dir ? 0x10 : 0), 38);
  r.writeUInt32LE(bigOffset ? MAX32 : offset, 42);
  name.copy(r, 46);
  if (extra) {
    let at = 46 + name.length;
    r.writeUInt16LE(0x0001, at);
    r.writeUInt16LE(extra, at + 2);
    at += 4;
    if (bigSize) {
      r.writeBigUInt64LE(BigInt(e.size), at);
      r.writeBigUInt64LE(BigInt(e.size), at + 8);
      at += 16;
    }
    if (bigOffset) r.writeBigUInt64LE(BigInt(offset), at);
  }
  return r;
}

/** The end of the zip: ZIP64 end record and locator when needed, then the classic end record. */
export function endOfCentralDirectory(entries: number, cdOffset: number, cdSize: number): Buffer {
  const zip64 = entries >= 0xffff || cdOffset >= MAX32 || cdSize >= MAX32;
  const out: Buffer[] = [];
  if (zip64) {
    const z = Buffer.alloc(56);
    z.writeUInt32LE(0x06064b50, 0);
    z.writeBigUInt64LE(44n, 4);
    z.writeUInt16LE((3 << 8) | 45, 12);
    z.writeUInt16LE(45, 14);
    z.writeBigUInt64LE(BigInt(entries), 24);
    z.writeBigUInt64LE(BigInt(entries), 32);
    z.writeBigUInt64LE(BigInt(cdSize), 40);
    z.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(cdOffset + cdSize), 8);
    loc.writeUInt32LE(1, 16);
    out.push(z, loc);
  }
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0);
  e.writeUInt16LE(zip64 ? 0xffff : entries, 8);
  e.writeUInt16LE(zip64 ? 0xffff : entries, 10);
  e.writeUInt32LE(zip64 ? MAX32 : cdSize, 12);
  e.writeUInt32LE(zip64 ? MAX32 : cdOffset, 16);
  out.push(e);
  return Buffer.concat(out);
}
