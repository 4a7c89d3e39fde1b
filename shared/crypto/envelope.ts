import { randomBytes } from 'node:crypto';
import { BackupError } from '../errors';
import { open, seal } from './aead';
import type { KeyWrapProvider } from './keyProvider';

/**
 * Envelope encryption through a KeyWrapProvider: a fresh 32-byte key seals the payload with
 * AES-256-GCM and the provider wraps that key (RSA wraps only a few hundred bytes).
 * Layout: u16 keyIdLength || keyId (UTF-8) || u16 wrappedLength || wrapped || sealed payload.
 */
export async function wrapEnvelope(provider: KeyWrapProvider, payload: Uint8Array, purpose: string): Promise<Buffer> {
  const dek = randomBytes(32);
  const { keyId, wrapped } = await provider.wrapKey(dek);
  const id = Buffer.from(keyId, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt16BE(id.length, 0);
  head.writeUInt16BE(wrapped.length, 2);
  return Buffer.concat([head.subarray(0, 2), id, head.subarray(2, 4), wrapped, seal(dek, payload, Buffer.from(purpose))]);
}

export async function unwrapEnvelope(provider: KeyWrapProvider, envelope: Uint8Array, purpose: string, what: string): Promise<Buffer> {
  const buf = Buffer.from(envelope);
  try {
    const idLen = buf.readUInt16BE(0);
    const keyId = buf.subarray(2, 2 + idLen).toString('utf8');
    const wLen = buf.readUInt16BE(2 + idLen);
    const wrapped = buf.subarray(4 + idLen, 4 + idLen + wLen);
    const sealed = buf.subarray(4 + idLen + wLen);
    if (sealed.length === 0) throw new RangeError('truncated');
    const dek = await provider.unwrapKey(keyId, wrapped);
    return open(dek, sealed, Buffer.from(purpose), what);
  } catch (e) {
    if (e instanceof BackupError && e.code === 'KEY_PROVIDER') throw e;
    throw new BackupError('CONFIG_CORRUPT', `${what} cannot be unwrapped: it is corrupted or was wrapped by another key (${provider.description}).`, {
      cause: e,
    });
  }
}
