import { constants, createPublicKey, publicEncrypt, type KeyObject } from 'node:crypto';
import { CryptographyClient, KeyClient, type KeyVaultKey } from '@azure/keyvault-keys';
import type { TokenCredential } from '@azure/identity';
import { BackupError } from '../errors';
import type { KeyWrapProvider } from './keyProvider';

export interface KeyVaultProviderOptions {
  vaultUrl: string;
  keyName: string;
  credential: TokenCredential;
  /** Create an RSA-3072 wrapping key when the named key does not exist (init only). */
  createIfMissing?: boolean;
}

/**
 * Azure Key Vault RSA-OAEP-256. Wrapping uses the public key locally (no vault round trip per
 * backup); unwrapping is always done by the vault, whose private key never leaves it.
 */
export class KeyVaultProvider implements KeyWrapProvider {
  readonly kind = 'keyvault' as const;
  readonly description: string;
  private readonly options: KeyVaultProviderOptions;
  private readonly clientOptions: { disableChallengeResourceVerification: boolean };
  private key?: { vaultKey: KeyVaultKey; publicKey: KeyObject };
  private readonly crypto = new Map<string, CryptographyClient>();

  constructor(options: KeyVaultProviderOptions) {
    this.options = options;
    this.description = `Key Vault key ${options.keyName} in ${options.vaultUrl}`;
    // The challenge's resource (vault.azure.net) matches only real vault host names; a vault
    // fake or private endpoint on another name needs the check relaxed.
    const host = new URL(options.vaultUrl).hostname;
    this.clientOptions = { disableChallengeResourceVerification: !/\.vault\.(azure\.net|azure\.cn|usgovcloudapi\.net)$/.test(host) };
  }

  private async currentKey(): Promise<{ vaultKey: KeyVaultKey; publicKey: KeyObject }> {
    if (this.key) return this.key;
    const client = new KeyClient(this.options.vaultUrl, this.options.credential, this.clientOptions);
    let vaultKey: KeyVaultKey;
    try {
      vaultKey = await client.getKey(this.options.keyName);
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404 && this.options.createIfMissing) {
        vaultKey = await this.call('create the wrapping key', () =>
          client.createRsaKey(this.options.keyName, { keySize: 3072, keyOps: ['wrapKey', 'unwrapKey'] }),
        );
      } else throw this.translate(e, 'read the wrapping key');
    }
    const jwk = vaultKey.key;
    if (!jwk?.n || !jwk.e || !vaultKey.id) throw new BackupError('KEY_PROVIDER', `${this.description} is not an RSA key.`);
    const publicKey = createPublicKey({
      key: { kty: 'RSA', n: Buffer.from(jwk.n).toString('base64url'), e: Buffer.from(jwk.e).toString('base64url') },
      format: 'jwk',
    });
    this.key = { vaultKey, publicKey };
    return this.key;
  }

  async wrapKey(key: Uint8Array): Promise<{ keyId: string; wrapped: Buffer }> {
    const { vaultKey, publicKey } = await this.currentKey();
    const wrapped = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key);
    return { keyId: vaultKey.id!, wrapped };
  }

  async unwrapKey(keyId: string, wrapped: Uint8Array): Promise<Buffer> {
    // The key ID comes from storage: never send a token to a vault or key other than the configured one.
    let id: URL | undefined;
    try {
      id = new URL(keyId);
    } catch {
      id = undefined;
    }
    if (!id || id.origin !== new URL(this.options.vaultUrl).origin || !id.pathname.startsWith(`/keys/${this.options.keyName}/`))
      throw new BackupError('KEY_PROVIDER', `This repository was wrapped by another key (${keyId.replace(/\/[0-9a-f]{32}$/, '')}), not by the configured ${this.description}.`, {
        hint: 'Pass the --key-vault and --key-name the repository was initialised with.',
      });
    let client = this.crypto.get(keyId);
    if (!client) {
      client = new CryptographyClient(keyId, this.options.credential, this.clientOptions);
      this.crypto.set(keyId, client);
    }
    const res = await this.call('unwrap a key', () => client!.unwrapKey('RSA-OAEP-256', wrapped));
    return Buffer.from(res.result);
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.translate(e, what);
    }
  }

  private translate(e: unknown, what: string): BackupError {
    const status = (e as { statusCode?: number }).statusCode;
    return new BackupError('KEY_PROVIDER', `Could not ${what} with ${this.description}${status ? ` (HTTP ${status})` : ''}.`, {
      cause: e,
      hint: 'Check the vault URL, the key name and that this identity may use wrapKey/unwrapKey.',
    });
  }
}
