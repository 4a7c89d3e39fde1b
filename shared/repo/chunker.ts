import { createHash } from 'node:crypto';
import type { ChunkerParams } from './repository';
import { GearScan } from './gearScan';

/**
 * FastCDC with normalized chunking (level 2). The gear table is derived from the repository's gear
 * key, so chunk boundaries depend on a secret and do not fingerprint known files.
 * Format constant: docs/repository-format.md, "Chunking".
 */
export function gearTable(gearKey: Uint8Array): Int32Array {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i += 8) {
    const block = createHash('sha256').update(gearKey).update(Buffer.from([i])).digest();
    for (let j = 0; j < 8; j++) table[i + j] = block.readInt32LE(j * 4);
  }
  return table;
}

function topBitsMask(bits: number): number {
  return ((2 ** bits - 1) * 2 ** (32 - bits)) | 0;
}

export class Chunker {
  private readonly gear: Int32Array;
  private readonly min: number;
  private readonly normal: number;
  private readonly max: number;
  private readonly maskHard: number;
  private readonly maskEasy: number;
  private readonly scanner?: GearScan;

  /**
   * `bufferBytes`: room for read buffers inside the WebAssembly scanner's memory (see `buffer`);
   * without it every cut runs the JavaScript loop.
   */
  constructor(gearKey: Uint8Array, params: ChunkerParams, bufferBytes = 0) {
    this.gear = gearTable(gearKey);
    if (bufferBytes > 0) this.scanner = new GearScan(this.gear, bufferBytes);
    this.min = params.minBytes;
    // Cutting starts at min, so a normal point at avg would make chunks ~20% larger than avg on
    // average; at min + 11/20 of (avg - min) the mean lands close to avg (docs: "Chunking").
    this.normal = params.minBytes + Math.round(((params.avgBytes - params.minBytes) * 11) / 20);
    this.max = params.maxBytes;
    const bits = Math.round(Math.log2(params.avgBytes));
    // Normalized chunking: harder before the average size, easier after it. Top bits of the
    // gear hash depend on the last 32 bytes, so the masks use them.
    this.maskHard = topBitsMask(bits + 2);
    this.maskEasy = topBitsMask(bits - 2);
  }

  get maxBytes(): number {
    return this.max;
  }

  /** A read buffer that `cut` scans in place with WebAssembly (needs `bufferBytes` at construction). */
  buffer(bytes: number): Buffer {
    if (!this.scanner) throw new RangeError('this chunker was made without buffer space');
    return this.scanner.buffer(bytes);
  }

  /**
   * Length of the next chunk of data[start, end). When `final` is false the caller must supply at
   * least maxBytes (or all remaining data) so a cut is never made at a buffer boundary.
   */
  cut(data: Uint8Array, start: number, end: number, final: boolean): number {
    const n = end - start;
    if (!final && n < this.max && n > this.min) throw new RangeError('chunker needs maxBytes of lookahead');
    return this.scan(data, start, end);
  }

  /**
   * Length of the next chunk of data[start, end) when more data may follow, or 0 when the cut cannot
   * be known yet (no boundary in the data and fewer than maxBytes of it). A cut found here is the cut
   * `cut` finds with all the data: a boundary depends only on the bytes before it.
   */
  tryCut(data: Uint8Array, start: number, end: number): number {
    const n = end - start;
    if (n <= this.min) return 0;
    const len = this.scan(data, start, end);
    return len === n && n < this.max ? 0 : len;
  }

  private scan(data: Uint8Array, start: number, end: number): number {
    const n = end - start;
    if (n <= this.min) return n;
    const gear = this.gear;
    const normalEnd = start + Math.min(this.normal, n);
    const hardEnd = start + Math.min(this.max, n);
    if (this.scanner?.owns(data)) return this.scanner.scan(data, start + this.min, normalEnd, hardEnd, this.maskHard, this.maskEasy) - start;
    let h = 0;
    let i = start + this.min;
    const mh = this.maskHard;
    for (; i < normalEnd; i++) {
      h = ((h << 1) + gear[data[i]!]!) | 0;
      if ((h & mh) === 0) return i + 1 - start;
    }
    const me = this.maskEasy;
    for (; i < hardEnd; i++) {
      h = ((h << 1) + gear[data[i]!]!) | 0;
      if ((h & me) === 0) return i + 1 - start;
    }
    return hardEnd - start;
  }
}
