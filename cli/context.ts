import { join } from 'node:path';
import { DefaultAzureCredential } from '@azure/identity';
import { loadSettings, SETTING_NAMES, type Settings } from '../shared/config';
import { DEFAULT_ARGON2, KeyVaultProvider, LocalKeyProvider, TEST_ARGON2, type Argon2Params, type KeyWrapProvider } from '../shared/crypto';
import { startAzurite, type AzuriteInstance } from '../shared/local';
import { Repository, type Stores } from '../shared/repo';
import { BlobStore, TableStore, type StorageConnection } from '../shared/storage';
import type { GlobalOptions } from './args';
import { readPassword } from './password';
import { GraphConnection, type TenantCredentials } from '../shared/graph';
import { TenantRegistry, type TenantRecord } from '../shared/tenants/registry';

/**
 * What every command needs: settings, stores (an embedded Azurite when no storage is configured),
 * the key-wrapping provider. close() stops what was started.
 */
export class CliContext {
  private azurite?: AzuriteInstance;
  private storesCache?: Stores;
  readonly settings: Settings;

  constructor(readonly options: GlobalOptions) {
    this.settings = loadSettings(process.env, {
      storageConnectionString: options.storage,
      dataDir: options.dataDir,
      repository: options.repository,
      keyVaultUrl: options.keyVault,
      keyVaultKeyName: options.keyName,
    });
  }

  get argon2(): Argon2Params {
    return this.settings.kdfProfile === 'test' ? TEST_ARGON2 : DEFAULT_ARGON2;
  }

  async stores(): Promise<Stores> {
    if (this.storesCache) return this.storesCache;
    let connection: StorageConnection;
    if (this.settings.storageConnectionString) connection = { kind: 'connectionString', connectionString: this.settings.storageConnectionString };
    else if (this.settings.storageBlobUrl && this.settings.storageTableUrl)
      connection = { kind: 'credential', blobUrl: this.settings.storageBlobUrl, tableUrl: this.settings.storageTableUrl, credential: new DefaultAzureCredential() };
    else {
      this.azurite = await startAzurite({ location: join(this.settings.dataDir, 'azurite') });
      connection = { kind: 'connectionString', connectionString: this.azurite.connectionString };
    }
    this.storesCache = { blobs: new BlobStore(connection), tables: new TableStore(connection) };
    return this.storesCache;
  }

  provider(create = false): KeyWrapProvider {
    if (this.settings.keyVaultUrl)
      return new KeyVaultProvider({
        vaultUrl: this.settings.keyVaultUrl,
        keyName: this.settings.keyVaultKeyName!,
        credential: new DefaultAzureCredential(),
        createIfMissing: create,
      });
    return LocalKeyProvider.open(join(this.settings.dataDir, 'keys', 'local.key'), { create });
  }

  async repository(name = this.settings.repository): Promise<Repository> {
    return Repository.open(await this.stores(), () => this.provider(), name);
  }

  /** The tenant registry; `create` makes the local key file when none exists yet (tenant add). */
  async tenants(create = false): Promise<TenantRegistry> {
    return new TenantRegistry((await this.stores()).tables, () => this.provider(create), this.settings.repository);
  }

  /** A registered tenant's repository and, on demand, its Graph connection. */
  async tenant(name: string): Promise<{ record: TenantRecord; repo: Repository; graph: () => Promise<GraphConnection> }> {
    const registry = await this.tenants();
    const record = await registry.get(name);
    const repo = await this.repository(record.repository);
    return { record, repo, graph: async () => this.graph(await registry.credentials(name)) };
  }

  graph(credentials: TenantCredentials): GraphConnection {
    const s = this.settings;
    return new GraphConnection(credentials, { graphBaseUrl: s.graphBaseUrl, authorityHost: s.authorityHost }, { mailboxBudget: s.mailboxBudget, tenantConcurrency: s.tenantConcurrency });
  }

  password(purpose: string): Promise<string> {
    return readPassword({ file: this.options.passwordFile, env: process.env[SETTING_NAMES.password] }, purpose);
  }

  async close(): Promise<void> {
    await this.azurite?.stop();
  }
}
