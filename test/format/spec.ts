import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, hkdfSync } from 'node:crypto';

/**
 * A second, deliberately naive implementation of the sealed layouts in docs/repository-format.md,
 * written from the document with node:crypto only (no product code). The vectors are built with
 * it where the product draws random nonces or keys, and the tests use it to read what the product
 * writes, so product and document must agree byte for byte.
 */

/** Deterministic test bytes: SHA-256(label ‖ u32le 0) ‖ SHA-256(label ‖ u32le 1) ‖ … cut to n. */
export function fixedBytes(label: string, n: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; out.length * 32 < n; i++) {
    const c = Buffer.alloc(4);
    c.writeUInt32LE(i, 0);
    out.push(createHash('sha256').update(label).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, n);
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
export const hmacSha256 = (key: Uint8Array, ...parts: (Uint8Array | string)[]) => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** nonce(12) ‖ ciphertext ‖ tag(16). */
export function gcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  return Buffer.concat([nonce, c.update(plaintext), c.final(), c.getAuthTag()]);
}

export function gcmOpen(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  const b = Buffer.from(sealed);
  const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
  d.setAAD(aad);
  d.setAuthTag(b.subarray(b.length - 16));
  return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
}

/** RFC 8410 PKCS#8 wrapping of a raw X25519 private key (RFC 7748), so node derives its public half. */
function x25519Private(raw: Uint8Array) {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), raw]);
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

export function x25519PublicOf(rawPrivate: Uint8Array): Buffer {
  return Buffer.from(createPublicKey(x25519Private(rawPrivate)).export({ format: 'jwk' }).x!, 'base64url');
}

export function x25519(rawPrivate: Uint8Array, rawPublic: Uint8Array): Buffer {
  const pub = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(rawPublic).toString('base64url') }, format: 'jwk' });
  return diffieHellman({ privateKey: x25519Private(rawPrivate), publicKey: pub });
}

/** Sealing to a public key (section 3): ephemeral public(32) ‖ AES-GCM(HKDF(shared), plaintext, AAD = purpose). */
export function boxSeal(recipientPublic: Uint8Array, plaintext: Uint8Array, purpose: string, ephemeralPrivate: Uint8Array, nonce: Uint8Array): Buffer {
  const ephPub = x25519PublicOf(ephemeralPrivate);
  const key = boxKey(x25519(ephemeralPrivate, recipientPublic), ephPub, recipientPublic, purpose);
  return Buffer.concat([ephPub, gcmSeal(key, nonce, plaintext, Buffer.from(purpose))]);
}

export function boxOpen(recipientPrivate: Uint8Array, sealed: Uint8Array, purpose: string): Buffer {
  const b = Buffer.from(sealed);
  const ephPub = b.subarray(0, 32);
  const key = boxKey(x25519(recipientPrivate, ephPub), ephPub, x25519PublicOf(recipientPrivate), purpose);
  return gcmOpen(key, b.subarray(32), Buffer.from(purpose));
}

function boxKey(shared: Buffer, ephPub: Uint8Array, recipientPublic: Uint8Array, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephPub, recipientPublic]), Buffer.from(`m365-backup/v1/seal/${purpose}`), 32));
}

export const localKeyId = (fileKey: Uint8Array) => `local:${hmacSha256(fileKey, 'key-id').subarray(0, 8).toString('hex')}`;

/** Envelope through the local key file: u16be idLen ‖ id ‖ u16be wrappedLen ‖ wrapped ‖ sealed payload. */
export function envelopeSeal(fileKey: Uint8Array, dek: Uint8Array, wrapNonce: Uint8Array, payloadNonce: Uint8Array, payload: Uint8Array, purpose: string): Buffer {
  const id = Buffer.from(localKeyId(fileKey), 'utf8');
  const wrapped = gcmSeal(fileKey, wrapNonce, dek, Buffer.from('kek'));
  const a = Buffer.alloc(2);
  a.writeUInt16BE(id.length, 0);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(wrapped.length, 0);
  return Buffer.concat([a, id, b, wrapped, gcmSeal(dek, payloadNonce, payload, Buffer.from(purpose))]);
}

export function envelopeOpen(fileKey: Uint8Array, envelope: Uint8Array, purpose: string): { keyId: string; payload: Buffer } {
  const e = Buffer.from(envelope);
  const idLen = e.readUInt16BE(0);
  const keyId = e.subarray(2, 2 + idLen).toString('utf8');
  const wLen = e.readUInt16BE(2 + idLen);
  const dek = gcmOpen(fileKey, e.subarray(4 + idLen, 4 + idLen + wLen), Buffer.from('kek'));
  return { keyId, payload: gcmOpen(dek, e.subarray(4 + idLen + wLen), Buffer.from(purpose)) };
}

/** A table property as the vectors and the frozen repository write it: its Table type and value. */
export type TypedValue =
  | { type: 'Edm.String'; value: string }
  | { type: 'Edm.Int32' | 'Edm.Double'; value: number }
  | { type: 'Edm.Int64'; value: string }
  | { type: 'Edm.Boolean'; value: boolean }
  | { type: 'Edm.Binary'; value: string /* base64 */ };
export interface TypedRow {
  PartitionKey: string;
  RowKey: string;
  properties: Record<string, TypedValue>;
}

/** The MAC input of section 6, from typed properties (numbers: decimal ASCII of a safe integer). */
export function rowMacInput(table: string, row: TypedRow): Buffer {
  const parts: Buffer[] = [Buffer.from(`${table}\0${row.PartitionKey}\0${row.RowKey}\0`)];
  for (const name of Object.keys(row.properties).sort()) {
    if (name === 'mac' || name === 't' || name === 'tm') continue;
    const p = row.properties[name]!;
    let letter: string;
    let value: Buffer;
    switch (p.type) {
      case 'Edm.Binary':
        [letter, value] = ['b', Buffer.from(p.value, 'base64')];
        break;
      case 'Edm.Boolean':
        [letter, value] = ['o', Buffer.from(p.value ? 'true' : 'false')];
        break;
      case 'Edm.String':
        [letter, value] = ['s', Buffer.from(p.value, 'utf8')];
        break;
      case 'Edm.Int64':
        [letter, value] = ['n', Buffer.from(BigInt(p.value).toString())];
        break;
      default:
        if (!Number.isSafeInteger(p.value)) throw new RangeError(`${name} is not a safe integer`);
        [letter, value] = ['n', Buffer.from(BigInt(p.value).toString())];
    }
    parts.push(Buffer.from(`${name}=${letter}`, 'utf8'), value, Buffer.from([0]));
  }
  return Buffer.concat(parts);
}

export function endMacInput(table: string, pk: string, rk: string, t: number, mac: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`end\0${table}\0${pk}\0${rk}\0${BigInt(t).toString()}\0`), mac]);
}

/** How the Table service types a JSON number sent without an annotation (what @azure/data-tables sends). */
export function inferredNumberType(v: number): 'Edm.Int32' | 'Edm.Double' {
  return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 ? 'Edm.Int32' : 'Edm.Double';
}

/** A Bloom delta blob (section 9): its chunk IDs after checking magic, length and HMAC; throws when damaged. */
export function bloomDeltaOpen(macKey: Uint8Array, blob: Buffer): Buffer[] {
  const body = blob.subarray(0, blob.length - 32);
  if (blob.length < 44 || body.subarray(0, 8).toString('latin1') !== 'M365BLD1') throw new Error('not a Bloom delta');
  if (!createHmac('sha256', macKey).update('bloom-delta').update(body).digest().equals(blob.subarray(blob.length - 32))) throw new Error('Bloom delta HMAC mismatch');
  const n = body.readUInt32LE(8);
  if (body.length !== 12 + 32 * n) throw new Error('Bloom delta length mismatch');
  return Array.from({ length: n }, (_, i) => Buffer.from(body.subarray(12 + 32 * i, 44 + 32 * i)));
}
