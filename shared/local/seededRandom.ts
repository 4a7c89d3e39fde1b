import { createCipheriv } from 'node:crypto';

/** Deterministic pseudo-random bytes (AES-256-CTR keystream of a seed): fast and reproducible. */
export class SeededRandom {
  private readonly cipher;
  private state: number;

  constructor(seed: number) {
    const key = Buffer.alloc(32);
    key.writeUInt32LE(seed >>> 0, 0);
    this.cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
    this.state = seed >>> 0 || 1;
  }

  bytes(n: number): Buffer {
    return this.cipher.update(Buffer.alloc(n));
  }

  /** xorshift32: a number in [0, 1). */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}
