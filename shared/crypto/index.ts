export { seal, sealParts, sealToPieces, open, SEAL_OVERHEAD } from './aead';
export { sealToPublicKey, PrivateKey, generateKeyPair } from './sealBox';
export { deriveSubkey, hmac, deriveKeyFromPassword, DEFAULT_ARGON2, TEST_ARGON2, type Argon2Params } from './kdf';
export type { KeyWrapProvider } from './keyProvider';
export { LocalKeyProvider } from './localKeyProvider';
export { KeyVaultProvider, type KeyVaultProviderOptions } from './keyVaultProvider';
export {
  createKeys,
  deriveWriteKeys,
  openMasterSecret,
  openPrivateKey,
  changePrivateKeyPassword,
  type WriteKeys,
  type PrivateKeyRecord,
  type NewKeys,
} from './keyring';
export { wrapEnvelope, unwrapEnvelope } from './envelope';
