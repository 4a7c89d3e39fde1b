import { randomBytes } from 'node:crypto';
import { BackupError } from '../errors';
import { open, seal } from './aead';
import { unwrapEnvelope, wrapEnvelope } from './envelope';
import { deriveKeyFromPassword, deriveSubkey, type Argon2Params } from './kdf';
import type { KeyWrapProvider } from './keyProvider';
import { generateKeyPair, PrivateKey } from './sealBox';

/**
 * The key hierarchy (docs/repository-format.md, "Keys"):
 * - a master secret, wrapped by the KeyWrapProvider only: backups unwrap it unattended and derive
 *   the chunk-ID, token, gear, pack-index and row-MAC keys from it;
 * - an X25519 key pair: the public key is stored in the clear; writers seal pack and metadata keys
 *   to it. The private key is sealed under Argon2id(password), and that record is wrapped again by
 *   the provider, so storage access alone allows no offline password guessing.
 */
export interface WriteKeys {
  /** HMAC-SHA-256 key of chunk IDs. */
  chunkIdKey: Buffer;
  /** Keyed tokens of item identities and change markers, stored in the clear. */
  tokenKey: Buffer;
  /** Seed of the chunker's gear table, so chunk boundaries do not fingerprint files. */
  gearKey: Buffer;
  /** Encrypts pack-index blobs (readable without the password, for rebuild-index). */
  indexKey: Buffer;
  /** MACs every index row, so structural verify detects tampering without the password. */
  macKey: Buffer;
  publicKey: Buffer;
}

export interface PrivateKeyRecord {
  salt: Buffer;
  argon2: Argon2Params;
  /** Provider envelope of AES-256-GCM(Argon2id(password), privateKey). */
  envelope: Buffer;
}

const MASTER_PURPOSE = 'master-secret';
const PRIVATE_PURPOSE = 'private-key';

export function deriveWriteKeys(master: Uint8Array, publicKey: Uint8Array): WriteKeys {
  return {
    chunkIdKey: deriveSubkey(master, 'chunk-id'),
    tokenKey: deriveSubkey(master, 'token'),
    gearKey: deriveSubkey(master, 'gear'),
    indexKey: deriveSubkey(master, 'pack-index'),
    macKey: deriveSubkey(master, 'row-mac'),
    publicKey: Buffer.from(publicKey),
  };
}

export interface NewKeys {
  publicKey: Buffer;
  masterEnvelope: Buffer;
  privateKey: PrivateKeyRecord;
}

export async function createKeys(provider: KeyWrapProvider, password: string, argon2: Argon2Params): Promise<NewKeys> {
  const pair = generateKeyPair();
  const master = randomBytes(32);
  return {
    publicKey: pair.publicKey,
    masterEnvelope: await wrapEnvelope(provider, master, MASTER_PURPOSE),
    privateKey: await sealPrivateKey(provider, pair.privateKey, password, argon2, pair.publicKey),
  };
}

export async function openMasterSecret(provider: KeyWrapProvider, envelope: Uint8Array): Promise<Buffer> {
  const master = await unwrapEnvelope(provider, envelope, MASTER_PURPOSE, 'The repository master secret');
  if (master.length !== 32) throw new BackupError('CONFIG_CORRUPT', 'The repository master secret has the wrong length.');
  return master;
}

async function sealPrivateKey(
  provider: KeyWrapProvider,
  privateKey: Uint8Array,
  password: string,
  argon2: Argon2Params,
  publicKey: Uint8Array,
): Promise<PrivateKeyRecord> {
  const salt = randomBytes(16);
  const passwordKey = await deriveKeyFromPassword(password, salt, argon2);
  const inner = seal(passwordKey, privateKey, publicKey);
  return { salt, argon2, envelope: await wrapEnvelope(provider, inner, PRIVATE_PURPOSE) };
}

/** The raw private key; WRONG_PASSWORD (with `message`) when the password does not match. */
async function openRawPrivateKey(provider: KeyWrapProvider, record: PrivateKeyRecord, password: string, publicKey: Uint8Array, message: string): Promise<Buffer> {
  const inner = await unwrapEnvelope(provider, record.envelope, PRIVATE_PURPOSE, 'The password-protected key record');
  const passwordKey = await deriveKeyFromPassword(password, record.salt, record.argon2);
  try {
    return open(passwordKey, inner, publicKey, 'the private key');
  } catch (e) {
    throw new BackupError('WRONG_PASSWORD', message, { cause: e });
  }
}

/** Opens the private key; WRONG_PASSWORD when the password does not match. */
export async function openPrivateKey(
  provider: KeyWrapProvider,
  record: PrivateKeyRecord,
  password: string,
  publicKey: Uint8Array,
): Promise<PrivateKey> {
  const raw = await openRawPrivateKey(provider, record, password, publicKey, 'The password is wrong for this repository.');
  return new PrivateKey(raw, publicKey);
}

/** Re-seals the private key under a new password. Data, packs and the master secret are untouched. */
export async function changePrivateKeyPassword(
  provider: KeyWrapProvider,
  record: PrivateKeyRecord,
  oldPassword: string,
  newPassword: string,
  argon2: Argon2Params,
  publicKey: Uint8Array,
): Promise<PrivateKeyRecord> {
  const raw = await openRawPrivateKey(provider, record, oldPassword, publicKey, 'The current password is wrong for this repository.');
  return sealPrivateKey(provider, raw, newPassword, argon2, publicKey);
}
