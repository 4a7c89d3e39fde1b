import type { LockPolicy } from './packLocks';
import { newestConfigBackup, writeConfigBackup, type ConfigBackup } from './configBackup';
import { randomBytes } from 'node:crypto';
import {
  changePrivateKeyPassword,
  createKeys,
  deriveWriteKeys,
  openMasterSecret,
  openPrivateKey,
  type Argon2Params,
  type KeyWrapProvider,
  type PrivateKey,
  type PrivateKeyRecord,
  type WriteKeys,
} from '../crypto';
import { BackupError, isBackupError } from '../errors';
import type { BlobStore, Row, StoredRow, TableStore } from '../storage';
import { repositoryLayout, type RepositoryLayout } from './layout';
import { macValid, withMac } from './rowMac';

export const FORMAT_VERSION = 1;

export interface ChunkerParams {
  minBytes: number;
  avgBytes: number;
  maxBytes: number;
}

export interface RepositoryConfig {
  formatVersion: number;
  repositoryId: string;
  publicKey: Buffer;
  provider: 'local' | 'keyvault';
  providerDescription: string;
  chunker: ChunkerParams;
  packTargetBytes: number;
  created: string;
}

export const DEFAULT_CHUNKER: ChunkerParams = { minBytes: 512 * 1024, avgBytes: 1024 * 1024, maxBytes: 8 * 1024 * 1024 };
export const DEFAULT_PACK_TARGET = 16 * 1024 * 1024;

export interface Stores {
  blobs: BlobStore;
  tables: TableStore;
}

export interface InitOptions {
  name: string;
  password: string;
  argon2: Argon2Params;
  chunker?: ChunkerParams;
  packTargetBytes?: number;
}

const CONFIG_PK = 'repository';
const CONFIG_RK = 'config';
const KEY_RK = 'private-key';

/**
 * An opened repository: its layout, stores and the write keys that unattended backups use.
 * Reading (restore, ls, verify --read-data) needs `unlock(password)`.
 */
export class Repository {
  /**
   * Immutability generations (packLocks.ts): set by the app from PACK_LOCK_DAYS; undefined = no
   * locks written by the product (a container default policy may still lock blobs).
   */
  lockPolicy?: LockPolicy;

  private constructor(
    readonly layout: RepositoryLayout,
    readonly stores: Stores,
    readonly provider: KeyWrapProvider,
    readonly config: RepositoryConfig,
    readonly keys: WriteKeys,
  ) {}

  get blobs(): BlobStore {
    return this.stores.blobs;
  }
  get tables(): TableStore {
    return this.stores.tables;
  }

  /** Creates containers, tables, keys and the config row. ALREADY_INITIALISED when one exists. */
  static async init(stores: Stores, provider: KeyWrapProvider, options: InitOptions): Promise<Repository> {
    const layout = repositoryLayout(options.name);
    await ensureStructure(stores, layout);
    const existing = await stores.tables.get(layout.configTable, CONFIG_PK, CONFIG_RK);
    if (existing)
      throw new BackupError('ALREADY_INITIALISED', `Repository "${layout.name}" is already initialised in this storage account.`);
    const keys = await createKeys(provider, options.password, options.argon2);
    const master = await openMasterSecret(provider, keys.masterEnvelope);
    const writeKeys = deriveWriteKeys(master, keys.publicKey);
    const chunker = options.chunker ?? DEFAULT_CHUNKER;
    const configRow: Row = {
      partitionKey: CONFIG_PK,
      rowKey: CONFIG_RK,
      formatVersion: FORMAT_VERSION,
      repositoryId: randomBytes(16).toString('hex'),
      publicKey: keys.publicKey,
      masterEnvelope: keys.masterEnvelope,
      provider: provider.kind,
      providerDescription: provider.description,
      chunkMin: chunker.minBytes,
      chunkAvg: chunker.avgBytes,
      chunkMax: chunker.maxBytes,
      packTarget: options.packTargetBytes ?? DEFAULT_PACK_TARGET,
      created: new Date().toISOString(),
    };
    // A repository whose tables are gone but whose configuration backup remains is not new: init
    // would give it new keys and orphan every backup. Opening it recovers the rows (see open).
    if (await newestConfigBackup(stores.blobs, layout))
      throw new BackupError('ALREADY_INITIALISED', `Repository "${layout.name}" exists (its tables are missing, its configuration backup is not): open it, then run rebuild-index.`);
    // The key row goes first: a config row is only ever visible together with its key.
    const key = keyRow(writeKeys.macKey, layout, keys.privateKey);
    const config = withMac(writeKeys.macKey, layout.configTable, configRow);
    await stores.tables.upsert(layout.configTable, key);
    try {
      await stores.tables.create(layout.configTable, config);
    } catch (e) {
      if (isBackupError(e, 'ALREADY_EXISTS'))
        throw new BackupError('ALREADY_INITIALISED', `Repository "${layout.name}" was initialised concurrently by someone else.`);
      throw e;
    }
    const repo = new Repository(layout, stores, provider, parseConfig(configRow), writeKeys);
    await writeConfigBackup(repo, { config, key });
    return repo;
  }

  /**
   * Opens the repository for writing; needs the key provider, not the password. The provider may be
   * given lazily, so that "not initialised" is reported before any key-provider problem.
   */
  static async open(stores: Stores, providerOrFactory: KeyWrapProvider | (() => KeyWrapProvider), name: string): Promise<Repository> {
    const layout = repositoryLayout(name);
    let row: StoredRow | undefined = await stores.tables.get(layout.configTable, CONFIG_PK, CONFIG_RK).catch((e: unknown) => {
      if (isBackupError(e, 'NOT_FOUND')) return undefined;
      throw e;
    });
    let recovered: ConfigBackup | undefined;
    if (!row) {
      // The tables may have been deleted: the configuration backup (a locked blob) brings the rows back.
      recovered = await newestConfigBackup(stores.blobs, layout);
      if (recovered) row = { ...recovered.config, etag: '' };
    }
    if (!row)
      throw new BackupError('NOT_INITIALISED', `No repository "${layout.name}" exists in this storage account.`, {
        hint: 'Run `m365-backup init` first.',
      });
    const config = parseConfig(row);
    const provider = typeof providerOrFactory === 'function' ? providerOrFactory() : providerOrFactory;
    if (config.provider !== provider.kind)
      throw new BackupError('KEY_PROVIDER', `Repository "${layout.name}" is protected by ${config.providerDescription}, not by ${provider.description}.`, {
        hint: config.provider === 'keyvault' ? 'Pass --key-vault and --key-name.' : 'Omit --key-vault and use the local key file.',
      });
    const master = await openMasterSecret(provider, row.masterEnvelope as Uint8Array);
    const keys = deriveWriteKeys(master, config.publicKey);
    if (!macValid(keys.macKey, layout.configTable, row))
      throw new BackupError('CONFIG_CORRUPT', `The configuration row of repository "${layout.name}" was altered or is corrupted.`);
    if (recovered) {
      if (!macValid(keys.macKey, layout.configTable, recovered.key))
        throw new BackupError('CONFIG_CORRUPT', `The configuration backup of repository "${layout.name}" has an altered key row.`);
      await ensureStructure(stores, layout);
      await stores.tables.upsert(layout.configTable, recovered.key);
      await stores.tables.upsert(layout.configTable, recovered.config);
    }
    return new Repository(layout, stores, provider, config, keys);
  }

  private async readKeyRow(): Promise<{ record: PrivateKeyRecord; etag: string }> {
    const row = await this.tables.get(this.layout.configTable, CONFIG_PK, KEY_RK);
    if (!row) throw new BackupError('CONFIG_CORRUPT', `The key row of repository "${this.layout.name}" is missing.`);
    if (!macValid(this.keys.macKey, this.layout.configTable, row))
      throw new BackupError('CONFIG_CORRUPT', `The key row of repository "${this.layout.name}" was altered or is corrupted.`);
    return { record: parseKeyRow(row), etag: row.etag };
  }

  /** Opens the private key. WRONG_PASSWORD when the password does not match. */
  async unlock(password: string): Promise<PrivateKey> {
    const { record } = await this.readKeyRow();
    return openPrivateKey(this.provider, record, password, this.config.publicKey);
  }

  /**
   * Re-wraps the private key under a new password with a conditional write on the key row's ETag,
   * so two concurrent changes cannot both win. No pack, chunk or index row is touched.
   */
  async changePassword(oldPassword: string, newPassword: string, argon2: Argon2Params): Promise<void> {
    const { record, etag } = await this.readKeyRow();
    const next = await changePrivateKeyPassword(this.provider, record, oldPassword, newPassword, argon2, this.config.publicKey);
    const key = keyRow(this.keys.macKey, this.layout, next);
    try {
      await this.tables.update(this.layout.configTable, key, etag);
    } catch (e) {
      if (isBackupError(e, 'PRECONDITION_FAILED'))
        throw new BackupError('PRECONDITION_FAILED', 'The password was changed concurrently by someone else; nothing was changed here.');
      throw e;
    }
    await writeConfigBackup(this, await this.configRows());
  }

  /** The configuration and key rows as stored (what a configuration backup copies). */
  async configRows(): Promise<ConfigBackup> {
    const config = await this.tables.get(this.layout.configTable, CONFIG_PK, CONFIG_RK);
    const key = await this.tables.get(this.layout.configTable, CONFIG_PK, KEY_RK);
    if (!config || !key) throw new BackupError('CONFIG_CORRUPT', `The configuration rows of repository "${this.layout.name}" are missing.`);
    return { config, key };
  }
}

export async function ensureStructure(stores: Stores, layout: RepositoryLayout): Promise<void> {
  await stores.blobs.ensureContainer(layout.packContainer);
  await stores.blobs.ensureContainer(layout.metaContainer);
  for (const t of [layout.configTable, layout.chunkTable, layout.packTable, layout.snapshotTable, layout.itemTable, layout.restoreTable]) await stores.tables.ensureTable(t);
}

function keyRow(macKey: Buffer, layout: RepositoryLayout, record: PrivateKeyRecord): Row {
  return withMac(macKey, layout.configTable, {
    partitionKey: CONFIG_PK,
    rowKey: KEY_RK,
    salt: record.salt,
    argonMemoryKiB: record.argon2.memoryKiB,
    argonIterations: record.argon2.iterations,
    argonParallelism: record.argon2.parallelism,
    envelope: record.envelope,
    updated: new Date().toISOString(),
  });
}

function field<T>(row: Row, name: string, check: (v: unknown) => boolean, what: string): T {
  const v = row[name];
  if (!check(v)) throw new BackupError('CONFIG_CORRUPT', `The ${what} row is corrupted: field "${name}" is missing or malformed.`);
  return v as T;
}
const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isStr = (v: unknown) => typeof v === 'string' && v.length > 0;
const isBin = (v: unknown) => v instanceof Uint8Array && v.length > 0;

function parseConfig(row: Row): RepositoryConfig {
  const w = 'repository configuration';
  const formatVersion = field<number>(row, 'formatVersion', isNum, w);
  if (formatVersion !== FORMAT_VERSION)
    throw new BackupError('CONFIG_CORRUPT', `The repository uses format version ${formatVersion}; this program reads version ${FORMAT_VERSION}.`);
  const publicKey = Buffer.from(field<Uint8Array>(row, 'publicKey', isBin, w));
  if (publicKey.length !== 32) throw new BackupError('CONFIG_CORRUPT', 'The repository configuration row is corrupted: bad public key.');
  field<Uint8Array>(row, 'masterEnvelope', isBin, w);
  const provider = field<string>(row, 'provider', (v) => v === 'local' || v === 'keyvault', w) as 'local' | 'keyvault';
  return {
    formatVersion,
    repositoryId: field<string>(row, 'repositoryId', isStr, w),
    publicKey,
    provider,
    providerDescription: field<string>(row, 'providerDescription', isStr, w),
    chunker: {
      minBytes: field<number>(row, 'chunkMin', isNum, w),
      avgBytes: field<number>(row, 'chunkAvg', isNum, w),
      maxBytes: field<number>(row, 'chunkMax', isNum, w),
    },
    packTargetBytes: field<number>(row, 'packTarget', isNum, w),
    created: field<string>(row, 'created', isStr, w),
  };
}

function parseKeyRow(row: StoredRow): PrivateKeyRecord {
  const w = 'repository key';
  return {
    salt: Buffer.from(field<Uint8Array>(row, 'salt', isBin, w)),
    argon2: {
      memoryKiB: field<number>(row, 'argonMemoryKiB', isNum, w),
      iterations: field<number>(row, 'argonIterations', isNum, w),
      parallelism: field<number>(row, 'argonParallelism', isNum, w),
    },
    envelope: Buffer.from(field<Uint8Array>(row, 'envelope', isBin, w)),
  };
}
