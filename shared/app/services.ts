import { join } from 'node:path';
import { DefaultAzureCredential } from '@azure/identity';
import type { Settings } from '../config';
import { DEFAULT_ARGON2, KeyVaultProvider, LocalKeyProvider, TEST_ARGON2, type Argon2Params, type KeyWrapProvider } from '../crypto';
import { BackupError } from '../errors';
import { GraphConnection, type RequestGates, type TenantCredentials } from '../graph';
import { SharedTenantGates } from '../graph/sharedGates';
import { Repository, type Stores } from '../repo';
import { GraphBudgetLedger, graphBudgetScope } from '../repo/graphBudgetLedger';
import { ArchiveTierBlobStore, azureStores, type StorageConnection } from '../storage';
import { TenantRegistry, type TenantRecord } from '../tenants/registry';

/** How long a run's tenant stays opened in a process (a unit of a longer run reads it again), and how many runs at once. */
const RUN_TENANT_TTL_MS = 10 * 60_000;
const RUN_TENANT_ENTRIES = 32;

/**
 * What the CLI and the Functions app both build from settings: storage, the key provider, the
 * tenant registry, tenant repositories and Graph connections. The CLI adds an embedded Azurite.
 */
export class AppServices {
  private storesCache?: Stores;
  /** One set of shared gates per (repository, tenant app) in this process: concurrent activities share one slot lease. */
  private readonly sharedGates = new Map<string, RequestGates>();
  /** tenantForRun's entries, by tenant and run. */
  private readonly runTenants = new Map<string, { expires: number; opened: Promise<{ record: TenantRecord; repo: Repository; credentials: () => Promise<TenantCredentials> }> }>();

  constructor(
    readonly settings: Settings,
    private readonly connection?: () => Promise<StorageConnection>,
  ) {}

  get argon2(): Argon2Params {
    return this.settings.kdfProfile === 'test' ? TEST_ARGON2 : DEFAULT_ARGON2;
  }

  /** The storage connection the settings name (connection string, or managed identity URLs). */
  static connectionFromSettings(s: Settings): StorageConnection | undefined {
    if (s.storageConnectionString) return { kind: 'connectionString', connectionString: s.storageConnectionString };
    if (s.storageBlobUrl && s.storageTableUrl) return { kind: 'credential', blobUrl: s.storageBlobUrl, tableUrl: s.storageTableUrl, credential: new DefaultAzureCredential() };
    return undefined;
  }

  async stores(): Promise<Stores> {
    if (this.storesCache) return this.storesCache;
    const connection = AppServices.connectionFromSettings(this.settings) ?? (await this.connection?.());
    if (!connection) throw new BackupError('USAGE', 'No storage is configured: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_BLOB_URL and AZURE_STORAGE_TABLE_URL.');
    const stores = azureStores(connection);
    const rehydrateSeconds = this.settings.emulateArchiveSeconds;
    if (rehydrateSeconds !== undefined) {
      // Local tests only (Azurite has no Archive tier): packs (layout: "<repository>-packs") are
      // archived on commit, as the lifecycle rule does in Azure, and rehydrate after the delay.
      const ms = rehydrateSeconds * 1000;
      stores.blobs = new ArchiveTierBlobStore(stores.blobs, { rehydrateMs: { Standard: ms, High: ms }, archiveOnCommit: (container) => container.endsWith('-packs') });
    }
    this.storesCache = stores;
    return this.storesCache;
  }

  provider(create = false): KeyWrapProvider {
    if (this.settings.keyVaultUrl)
      return new KeyVaultProvider({ vaultUrl: this.settings.keyVaultUrl, keyName: this.settings.keyVaultKeyName!, credential: new DefaultAzureCredential(), createIfMissing: create });
    return LocalKeyProvider.open(join(this.settings.dataDir, 'keys', 'local.key'), { create });
  }

  async repository(name = this.settings.repository): Promise<Repository> {
    const repo = await Repository.open(await this.stores(), () => this.provider(), name);
    if (this.settings.packLockDays > 0) repo.lockPolicy = { days: this.settings.packLockDays };
    return repo;
  }

  /** The tenant registry; `create` makes the local key file when none exists yet (tenant add). */
  async tenants(create = false): Promise<TenantRegistry> {
    const stores = await this.stores();
    return new TenantRegistry(stores.tables, () => this.provider(create), this.settings.repository, { blobs: stores.blobs, lockDays: this.settings.packLockDays });
  }

  /** A registered tenant's repository and, on demand, its Graph connection. */
  async tenant(name: string): Promise<{ record: TenantRecord; repo: Repository; graph: () => Promise<GraphConnection> }> {
    const { registry, record, repo } = await this.openTenant(name);
    return { record, repo, graph: async () => this.graph(await registry.credentials(name), repo) };
  }

  private async openTenant(name: string): Promise<{ registry: TenantRegistry; record: TenantRecord; repo: Repository }> {
    const registry = await this.tenants();
    const record = await registry.get(name);
    return { registry, record, repo: await this.repository(record.repository) };
  }

  /**
   * The tenant as one backup run's work units see it in this process: its registration, opened
   * repository and credentials read once per run, not once per activity. Measured by bench:scale
   * (20 users, unchanged incremental): 9.2 registry reads and 5.1 repository opens per user, 14 of
   * its 33 table requests. Keyed by run, so a new run always reads the registry again (a rotated
   * secret or removed tenant applies from the next run); entries end after RUN_TENANT_TTL_MS.
   */
  async tenantForRun(name: string, runId: string): Promise<{ record: TenantRecord; repo: Repository; graph: () => Promise<GraphConnection> }> {
    const key = `${name}\0${runId}`;
    const now = Date.now();
    for (const [k, v] of this.runTenants) if (v.expires <= now) this.runTenants.delete(k);
    let entry = this.runTenants.get(key);
    if (!entry) {
      const opened = this.openTenant(name).then(({ registry, record, repo }) => {
        let credentials: Promise<TenantCredentials> | undefined;
        return { record, repo, credentials: () => (credentials ??= registry.credentials(name).catch((e: unknown) => ((credentials = undefined), Promise.reject(e)))) };
      });
      entry = { expires: now + RUN_TENANT_TTL_MS, opened };
      this.runTenants.set(key, entry);
      if (this.runTenants.size > RUN_TENANT_ENTRIES) this.runTenants.delete(this.runTenants.keys().next().value!);
      opened.catch(() => this.runTenants.delete(key)); // a failed open is not remembered
    }
    const t = await entry.opened;
    return { record: t.record, repo: t.repo, graph: async () => this.graph(await t.credentials(), t.repo) };
  }

  /**
   * A tenant's Graph connection. With a repository (a backup or restore of a registered tenant),
   * its budgets are shared through that repository's budget rows with every other process of the
   * tenant (unless GRAPH_SHARED_BUDGETS=off); without one (tenant add), they are this process's.
   */
  /** Gives back the Graph slots this process holds (a CLI run that ends; a Function App worker never does). */
  async close(): Promise<void> {
    await Promise.all([...this.sharedGates.values()].map((g) => (g instanceof SharedTenantGates ? g.close() : undefined)));
    this.sharedGates.clear();
  }

  graph(credentials: TenantCredentials, repo?: Repository): GraphConnection {
    const s = this.settings;
    const budgets = { mailboxBudget: s.mailboxBudget, tenantConcurrency: s.tenantConcurrency, tenantRate: s.tenantRate };
    let gates: RequestGates | undefined;
    if (repo && s.sharedBudgets) {
      const scope = graphBudgetScope(credentials.tenantId, credentials.clientId);
      const key = `${repo.layout.name}/${scope}`;
      gates = this.sharedGates.get(key);
      if (!gates) this.sharedGates.set(key, (gates = new SharedTenantGates({ ledger: GraphBudgetLedger.forRepository(repo, scope), ...budgets })));
    }
    return new GraphConnection(credentials, { graphBaseUrl: s.graphBaseUrl, authorityHost: s.authorityHost }, { ...budgets, gates });
  }
}
