/**
 * OneDrive's QuickXorHash (the `file.hashes.quickXorHash` of a driveItem): a 160-bit circular
 * vector; byte i of the stream is XORed in at bit position (11 * i) mod 160; the 64-bit little-
 * endian byte count is XORed into the last 8 bytes. Kept as five 32-bit words so no BigInt is needed.
 * Streaming: update() may be called with any split of the input.
 */
export class QuickXorHash {
  private static readonly WIDTH = 160;
  private static readonly SHIFT = 11;
  private readonly words = new Uint32Array(5);
  private shiftSoFar = 0;
  private length = 0;

  update(data: Uint8Array): this {
    const width = QuickXorHash.WIDTH;
    const n = data.length;
    const iterations = Math.min(n, width);
    let position = this.shiftSoFar;
    for (let i = 0; i < iterations; i++) {
      // Every byte that lands on this position of the vector is XORed together first.
      let x = 0;
      for (let j = i; j < n; j += width) x ^= data[j]!;
      if (x !== 0) this.xorByteAt(position, x);
      position += QuickXorHash.SHIFT;
      if (position >= width) position -= width;
    }
    this.shiftSoFar = (this.shiftSoFar + QuickXorHash.SHIFT * (n % width)) % width;
    this.length += n;
    return this;
  }

  private xorByteAt(position: number, byte: number): void {
    const cell = position >>> 5;
    const offset = position & 31;
    this.words[cell]! ^= (byte << offset) >>> 0;
    if (offset > 24) this.words[(cell + 1) % 5]! ^= byte >>> (32 - offset);
  }

  /** The 20-byte digest. */
  digest(): Buffer {
    const out = Buffer.alloc(20);
    for (let i = 0; i < 5; i++) out.writeUInt32LE(this.words[i]!, i * 4);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(this.length));
    for (let i = 0; i < 8; i++) out[12 + i]! ^= len[i]!;
    return out;
  }

  /** Base64, as Graph reports it. */
  digestBase64(): string {
    return this.digest().toString('base64');
  }

  static of(data: Uint8Array): string {
    return new QuickXorHash().update(data).digestBase64();
  }
}
