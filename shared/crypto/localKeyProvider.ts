import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BackupError } from '../errors';
import { open, seal } from './aead';
import { hmac } from './kdf';
import type { KeyWrapProvider } from './keyProvider';

/**
 * Stands in for Key Vault when none is configured: a 32-byte key in a file readable only by its owner.
 * Anyone with both the file and the storage account can unwrap; keep the file off the storage account.
 */
export class LocalKeyProvider implements KeyWrapProvider {
  readonly kind = 'local' as const;
  readonly description: string;
  private readonly key: Buffer;
  private readonly keyId: string;

  private constructor(path: string, key: Buffer) {
    this.description = `local key file ${path}`;
    this.key = key;
    this.keyId = `local:${hmac(key, 'key-id').subarray(0, 8).toString('hex')}`;
  }

  /** Opens the key file, creating it (mode 0600) when `create` is set and it does not exist. */
  static open(path: string, options: { create?: boolean } = {}): LocalKeyProvider {
    if (!existsSync(path)) {
      if (!options.create)
        throw new BackupError('KEY_PROVIDER', `The local key file ${path} does not exist.`, {
          hint: 'Run init first, pass --data-dir pointing to the folder that holds the key, or use --key-vault.',
        });
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, JSON.stringify({ version: 1, key: randomBytes(32).toString('base64') }) + '\n', { mode: 0o600, flag: 'wx' });
    }
    let key: Buffer;
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as { key?: string };
      key = Buffer.from(parsed.key ?? '', 'base64');
      if (key.length !== 32) throw new RangeError('bad key length');
    } catch (e) {
      throw new BackupError('KEY_PROVIDER', `The local key file ${path} is unreadable or corrupted.`, { cause: e });
    }
    return new LocalKeyProvider(path, key);
  }

  async wrapKey(key: Uint8Array): Promise<{ keyId: string; wrapped: Buffer }> {
    return { keyId: this.keyId, wrapped: seal(this.key, key, Buffer.from('kek')) };
  }

  async unwrapKey(keyId: string, wrapped: Uint8Array): Promise<Buffer> {
    if (keyId !== this.keyId)
      throw new BackupError('KEY_PROVIDER', `This repository was protected by another key than the ${this.description}.`, {
        hint: 'Use the key file (or Key Vault) the repository was initialised with.',
      });
    return open(this.key, wrapped, Buffer.from('kek'), 'a wrapped key');
  }
}
