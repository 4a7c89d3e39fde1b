import { timingSafeEqual } from 'node:crypto';
import { hmac } from '../crypto';

/**
 * A Bloom filter of known chunk IDs, so "do we have this chunk?" is answered from memory and the
 * chunk table is asked only on a possible hit. Chunk IDs are keyed hashes, uniformly random, so
 * their own bytes serve as the hash functions.
 * Blob layout: "M365BLM1" || u32le k || u32le bits || f64le count || bitmap || HMAC(row-MAC key)
 */
const MAGIC = Buffer.from('M365BLM1');

export class BloomFilter {
  readonly bits: Uint8Array;
  readonly bitCount: number;
  readonly k: number;
  count: number;

  constructor(capacity: number, k = 7, bits?: Uint8Array, count = 0) {
    // ~9.6 bits per entry for a 1% false-positive rate at capacity.
    this.bitCount = bits ? bits.length * 8 : Math.max(1 << 16, Math.ceil((capacity * 9.6) / 8) * 8);
    this.bits = bits ?? new Uint8Array(this.bitCount / 8);
    this.k = k;
    this.count = count;
  }

  get capacity(): number {
    return Math.floor(this.bitCount / 9.6);
  }

  private *positions(id: Uint8Array): Generator<number> {
    const h1 = ((id[0]! << 24) | (id[1]! << 16) | (id[2]! << 8) | id[3]!) >>> 0;
    const h2 = ((id[4]! << 24) | (id[5]! << 16) | (id[6]! << 8) | id[7]!) >>> 0;
    for (let i = 0; i < this.k; i++) yield ((h1 + Math.imul(i, h2 | 1)) >>> 0) % this.bitCount;
  }

  add(id: Uint8Array): void {
    for (const p of this.positions(id)) this.bits[p >>> 3]! |= 1 << (p & 7);
    this.count++;
  }

  mightContain(id: Uint8Array): boolean {
    for (const p of this.positions(id)) if ((this.bits[p >>> 3]! & (1 << (p & 7))) === 0) return false;
    return true;
  }

  /** Adds everything another filter of the same shape holds (concurrent writers merge this way). */
  merge(other: BloomFilter): boolean {
    if (other.bitCount !== this.bitCount || other.k !== this.k) return false;
    for (let i = 0; i < this.bits.length; i++) this.bits[i]! |= other.bits[i]!;
    this.count = Math.max(this.count, other.count);
    return true;
  }

  encode(macKey: Uint8Array): Buffer {
    const head = Buffer.alloc(24);
    MAGIC.copy(head, 0);
    head.writeUInt32LE(this.k, 8);
    head.writeUInt32LE(this.bitCount, 12);
    head.writeDoubleLE(this.count, 16);
    const body = Buffer.concat([head, this.bits]);
    return Buffer.concat([body, hmac(macKey, 'bloom', body)]);
  }

  /** Undefined when the blob is damaged: the caller rebuilds the filter from the chunk table. */
  static decode(macKey: Uint8Array, blob: Buffer): BloomFilter | undefined {
    if (blob.length < 24 + 32 || !blob.subarray(0, 8).equals(MAGIC)) return undefined;
    const body = blob.subarray(0, blob.length - 32);
    if (!timingSafeEqual(hmac(macKey, 'bloom', body), blob.subarray(blob.length - 32))) return undefined;
    const k = body.readUInt32LE(8);
    const bitCount = body.readUInt32LE(12);
    if (bitCount / 8 !== body.length - 24) return undefined;
    return new BloomFilter(0, k, new Uint8Array(body.subarray(24)), body.readDoubleLE(16));
  }
}
