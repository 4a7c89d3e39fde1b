import { createHmac, hkdfSync } from 'node:crypto';
import { argon2id } from 'hash-wasm';

/** Argon2id cost. Stored next to what it protects, so it can be raised later. */
export interface Argon2Params {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** DESIGN.md: m=64 MiB, t=3, p=1 costs ~0.5 s on the target machine. */
export const DEFAULT_ARGON2: Argon2Params = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 1 };
/** A cheap profile for tests only (M365_BACKUP_KDF=test). */
export const TEST_ARGON2: Argon2Params = { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 };

export async function deriveKeyFromPassword(password: string, salt: Uint8Array, p: Argon2Params): Promise<Buffer> {
  const out = await argon2id({
    password,
    salt,
    iterations: p.iterations,
    memorySize: p.memoryKiB,
    parallelism: p.parallelism,
    hashLength: 32,
    outputType: 'binary',
  });
  return Buffer.from(out);
}

/** HKDF-SHA-256 sub-key derivation: one purpose string per key. */
export function deriveSubkey(master: Uint8Array, purpose: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), Buffer.from(`m365-backup/v1/${purpose}`), length));
}

export function hmac(key: Uint8Array, ...parts: (Uint8Array | string)[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}
