import { homedir } from 'node:os';
import { join } from 'node:path';
import { BackupError } from '../errors';

/**
 * Every setting the product reads from the environment, in one list: the code and the deployment
 * check (infra/) share it. `secret` settings are never logged.
 */
export const SETTING_NAMES = {
  storageConnectionString: 'AZURE_STORAGE_CONNECTION_STRING',
  storageBlobUrl: 'AZURE_STORAGE_BLOB_URL',
  storageTableUrl: 'AZURE_STORAGE_TABLE_URL',
  repository: 'M365_BACKUP_REPOSITORY',
  keyVaultUrl: 'KEY_VAULT_URL',
  keyVaultKeyName: 'KEY_VAULT_KEY_NAME',
  dataDir: 'M365_BACKUP_DATA_DIR',
  password: 'M365_BACKUP_PASSWORD',
  kdfProfile: 'M365_BACKUP_KDF',
} as const;

export const SECRET_SETTINGS: ReadonlySet<string> = new Set([SETTING_NAMES.storageConnectionString, SETTING_NAMES.password]);

export interface Settings {
  storageConnectionString?: string;
  storageBlobUrl?: string;
  storageTableUrl?: string;
  repository: string;
  keyVaultUrl?: string;
  keyVaultKeyName?: string;
  dataDir: string;
  kdfProfile: 'default' | 'test';
}

const nonEmpty = (v: string | undefined) => (v && v.trim() !== '' ? v.trim() : undefined);

/** Parses and validates the environment; overrides (CLI flags) win over it. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Settings> = {}): Settings {
  const s: Settings = {
    storageConnectionString: nonEmpty(env[SETTING_NAMES.storageConnectionString]),
    storageBlobUrl: nonEmpty(env[SETTING_NAMES.storageBlobUrl]),
    storageTableUrl: nonEmpty(env[SETTING_NAMES.storageTableUrl]),
    repository: nonEmpty(env[SETTING_NAMES.repository]) ?? 'm365backup',
    keyVaultUrl: nonEmpty(env[SETTING_NAMES.keyVaultUrl]),
    keyVaultKeyName: nonEmpty(env[SETTING_NAMES.keyVaultKeyName]),
    dataDir: nonEmpty(env[SETTING_NAMES.dataDir]) ?? join(homedir(), '.m365-backup'),
    kdfProfile: env[SETTING_NAMES.kdfProfile] === 'test' ? 'test' : 'default',
  };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (s as unknown as Record<string, unknown>)[k] = v;
  if (s.keyVaultUrl) {
    let url: URL;
    try {
      url = new URL(s.keyVaultUrl);
    } catch {
      throw new BackupError('USAGE', `The Key Vault URL "${s.keyVaultUrl}" is not a URL.`);
    }
    if (url.protocol !== 'https:') throw new BackupError('USAGE', 'The Key Vault URL must use https.');
    if (!s.keyVaultKeyName) throw new BackupError('USAGE', 'A Key Vault URL needs a key name too (--key-name or KEY_VAULT_KEY_NAME).');
  }
  if ((s.storageBlobUrl && !s.storageTableUrl) || (!s.storageBlobUrl && s.storageTableUrl))
    throw new BackupError('USAGE', 'Set both AZURE_STORAGE_BLOB_URL and AZURE_STORAGE_TABLE_URL, or neither.');
  return s;
}
