import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BackupError } from '../errors';

/** AES-256-GCM with a random 96-bit nonce. Sealed layout: nonce(12) || ciphertext || tag(16). */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

export function seal(key: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Buffer {
  return sealParts(key, [plaintext], aad);
}

/** Seals the concatenation of parts without first copying them into one buffer. */
export function sealParts(key: Uint8Array, parts: Uint8Array[], aad?: Uint8Array): Buffer {
  return Buffer.concat(sealToPieces(key, parts, aad));
}

/**
 * The same sealed bytes, as the pieces the cipher produced (nonce, one ciphertext piece per part,
 * tag), so a large ciphertext can be moved on without another copy.
 */
export function sealToPieces(key: Uint8Array, parts: Uint8Array[], aad?: Uint8Array): Buffer[] {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  if (aad) cipher.setAAD(aad);
  const out: Buffer[] = [nonce];
  for (const p of parts) out.push(cipher.update(p));
  const fin = cipher.final();
  if (fin.length > 0) out.push(fin);
  out.push(cipher.getAuthTag());
  return out;
}

/** Opens a sealed buffer; throws INTEGRITY when it was altered or the key is wrong. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined, what: string): Buffer {
  if (sealed.byteLength < SEAL_OVERHEAD) throw new BackupError('INTEGRITY', `${what} is truncated.`);
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, NONCE_BYTES));
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
    const plain = decipher.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES));
    // GCM is a stream mode: final() only checks the tag and yields no bytes, so the plaintext is
    // returned as the cipher produced it (no concatenating copy of every chunk a restore reads).
    const fin = decipher.final();
    return fin.length === 0 ? plain : Buffer.concat([plain, fin]);
  } catch (e) {
    throw new BackupError('INTEGRITY', `${what} failed authentication: it was altered or is not ours.`, { cause: e });
  }
}
