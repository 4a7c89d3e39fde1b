/**
 * A key-wrapping provider protects small keys with a key the storage account never sees:
 * Azure Key Vault (RSA-OAEP-256, the private half never leaves the vault) or a local key file.
 */
export interface KeyWrapProvider {
  /** 'local' or 'keyvault'; stored in the repository config so a mismatch is caught early. */
  readonly kind: 'local' | 'keyvault';
  /** Where the wrapping key lives, for messages (a vault URL and key name, or a file path). Never secret. */
  readonly description: string;
  /** Wraps a 32-byte key. Returns the wrapped bytes and the id of the wrapping key version. */
  wrapKey(key: Uint8Array): Promise<{ keyId: string; wrapped: Buffer }>;
  /** Unwraps with the wrapping key version that wrapped it. */
  unwrapKey(keyId: string, wrapped: Uint8Array): Promise<Buffer>;
}
