import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import { BackupError } from '../errors';
import { open, seal } from './aead';

/**
 * Sealing to the repository's X25519 public key (ephemeral ECDH + HKDF-SHA-256 + AES-256-GCM), so
 * writers (backups) can encrypt pack and metadata keys that only the private-key holder can open.
 * Layout: ephemeralPublic(32) || nonce(12) || ciphertext || tag(16).
 */
export const EPHEMERAL_BYTES = 32;

export interface RawKeyPair {
  publicKey: Buffer; // 32 raw bytes
  privateKey: Buffer; // 32 raw bytes
}

export function generateKeyPair(): RawKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: rawPublic(publicKey), privateKey: Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url') };
}

function rawPublic(k: KeyObject): Buffer {
  return Buffer.from(k.export({ format: 'jwk' }).x!, 'base64url');
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/** A private key ready for repeated opens (the KeyObject is built once). */
export class PrivateKey {
  /** The 32 raw bytes, for wrapping into a short-lived restore session (never logged or stored in the clear). */
  raw(): Buffer {
    return Buffer.from(this.key.export({ format: 'jwk' }).d!, 'base64url');
  }

  private readonly key: KeyObject;
  readonly publicKey: Buffer;
  constructor(raw: Uint8Array, publicKey: Uint8Array) {
    this.publicKey = Buffer.from(publicKey);
    this.key = createPrivateKey({
      key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(raw).toString('base64url'), x: this.publicKey.toString('base64url') },
      format: 'jwk',
    });
  }

  open(sealed: Uint8Array, purpose: string, what: string): Buffer {
    const buf = Buffer.from(sealed);
    if (buf.length < EPHEMERAL_BYTES + 28) throw new BackupError('INTEGRITY', `${what} is truncated.`);
    const eph = buf.subarray(0, EPHEMERAL_BYTES);
    const shared = diffieHellman({ privateKey: this.key, publicKey: publicKeyObject(eph) });
    const key = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([eph, this.publicKey]), `m365-backup/v1/seal/${purpose}`, 32));
    return open(key, buf.subarray(EPHEMERAL_BYTES), Buffer.from(purpose), what);
  }
}

/** Seals a small secret to a public key; `purpose` binds it to its use (it is the AAD and HKDF info). */
export function sealToPublicKey(publicKey: Uint8Array, plaintext: Uint8Array, purpose: string): Buffer {
  const eph = generateKeyPairSync('x25519');
  const ephRaw = rawPublic(eph.publicKey);
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: publicKeyObject(publicKey) });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephRaw, publicKey]), `m365-backup/v1/seal/${purpose}`, 32));
  return Buffer.concat([ephRaw, seal(key, plaintext, Buffer.from(purpose))]);
}
