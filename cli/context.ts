import { join } from 'node:path';
import { AppServices } from '../shared/app/services';
import { loadSettings, SETTING_NAMES, type Settings } from '../shared/config';
import type { Argon2Params, KeyWrapProvider } from '../shared/crypto';
import type { GraphConnection, TenantCredentials } from '../shared/graph';
import { startAzurite, type AzuriteInstance } from '../shared/local';
import type { Repository, Stores } from '../shared/repo';
import type { TenantRecord, TenantRegistry } from '../shared/tenants/registry';
import type { GlobalOptions } from './args';
import { readPassword } from './password';

/**
 * What every command needs: the app services from settings, with an embedded Azurite when no
 * storage is configured, and the password sources. close() stops what was started.
 */
export class CliContext {
  private azurite?: AzuriteInstance;
  readonly settings: Settings;
  private readonly services: AppServices;

  constructor(readonly options: GlobalOptions) {
    this.settings = loadSettings(process.env, {
      storageConnectionString: options.storage,
      dataDir: options.dataDir,
      repository: options.repository,
      keyVaultUrl: options.keyVault,
      keyVaultKeyName: options.keyName,
    });
    this.services = new AppServices(this.settings, async () => {
      this.azurite = await startAzurite({ location: join(this.settings.dataDir, 'azurite') });
      return { kind: 'connectionString', connectionString: this.azurite.connectionString };
    });
  }

  get argon2(): Argon2Params {
    return this.services.argon2;
  }
  stores(): Promise<Stores> {
    return this.services.stores();
  }
  provider(create = false): KeyWrapProvider {
    return this.services.provider(create);
  }
  repository(name?: string): Promise<Repository> {
    return this.services.repository(name);
  }
  tenants(create = false): Promise<TenantRegistry> {
    return this.services.tenants(create);
  }
  tenant(name: string): Promise<{ record: TenantRecord; repo: Repository; graph: () => Promise<GraphConnection> }> {
    return this.services.tenant(name);
  }
  /** The repository a maintenance command acts on: the tenant's with --tenant, else the folder repository. */
  async repositoryFor(tenant: string | undefined): Promise<{ repo: Repository; label: string }> {
    if (tenant === undefined) {
      const repo = await this.repository();
      return { repo, label: `repository "${repo.layout.name}"` };
    }
    const t = await this.tenant(tenant);
    return { repo: t.repo, label: `tenant "${t.record.name}" (repository "${t.repo.layout.name}")` };
  }
  graph(credentials: TenantCredentials): GraphConnection {
    return this.services.graph(credentials);
  }

  password(purpose: string): Promise<string> {
    return readPassword({ file: this.options.passwordFile, env: process.env[SETTING_NAMES.password] }, purpose);
  }

  async close(): Promise<void> {
    await this.services.close().catch(() => undefined);
    await this.azurite?.stop();
  }
}
