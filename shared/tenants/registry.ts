import { unwrapEnvelope, wrapEnvelope, type KeyWrapProvider } from '../crypto';
import { BackupError } from '../errors';
import { TENANT_RESTORE_SECRET_PREFIX, TENANT_SECRET_PREFIX } from '../config';
import type { TenantCredentials } from '../graph';
import type { Row, TableStore } from '../storage';
import { validateTenantName } from './names';
import { hasRegistryCopy, newestRegistryCopy, writeRegistryCopy, type RegistryCopyOptions } from './registryCopy';

/** A tenant as the registry keeps it: identifiers in the clear, the credential wrapped by the key provider. */
export interface TenantRecord {
  name: string;
  tenantId: string;
  clientId: string;
  auth: 'secret' | 'certificate';
  /** The tenant's own repository (own keys and password). */
  repository: string;
  created: string;
  /** A second app registration used only for restores (write roles); backups keep the read-only one. */
  restoreClientId?: string;
  restoreAuth?: 'secret' | 'certificate';
  /**
   * One-on-one and group chats are part of this tenant's default backup (off unless set): they need
   * the protected application permission Chat.Read.All, which Microsoft approves on request.
   */
  chats?: boolean;
}

/** The restore app registration's id and credential (secret or certificate PEM). */
export interface RestoreApp {
  clientId: string;
  clientSecret?: string;
  certificatePem?: string;
}

const PK = 'tenant';

/** Registries whose copies this process has checked, per table store (one check per process, not per call). */
const copiesChecked = new WeakMap<TableStore, Set<string>>();

export { validateTenantName } from './names';

/** The repository of a tenant: its own tables, containers, keys and password. */
export const tenantRepositoryName = (base: string, tenant: string) => `${base}${tenant}`;

/**
 * The MSP's list of tenants, in the `<repository>tenants` table. A client secret or certificate is
 * stored only as a key-provider envelope (Key Vault or the local key file), bound to the tenant's
 * name, so a stolen table reveals no credential and rows cannot be swapped between tenants.
 */
export class TenantRegistry {
  readonly table: string;
  /** Set when this registry brought its rows back from a sealed copy (the table was deleted). */
  recovered?: { tenants: number; from: string; skippedCopies: number };

  /**
   * With `copies`, every add and remove also writes a sealed, locked copy of the rows
   * (registryCopy.ts), and a registry whose table is gone or empty comes back from the newest one.
   */
  constructor(
    private readonly tables: TableStore,
    private readonly provider: () => KeyWrapProvider,
    readonly baseRepository: string,
    private readonly copies?: RegistryCopyOptions,
  ) {
    this.table = `${baseRepository}tenants`;
  }

  private async rows(): Promise<Row[]> {
    const out: Row[] = [];
    try {
      for await (const row of this.tables.query(this.table, { filter: `PartitionKey eq '${PK}'` })) out.push(row);
    } catch (e) {
      if (e instanceof BackupError && e.code === 'NOT_FOUND') return [];
      throw e;
    }
    return out;
  }

  /**
   * Once per process (and again when a tenant is not found): a table that lost every row (deleted by someone with the app's rights)
   * is filled again from the newest sealed copy; a registry from before copies existed gets its first.
   */
  private async checkCopies(force = false): Promise<void> {
    if (!this.copies) return;
    let checked = copiesChecked.get(this.tables);
    if (!checked) copiesChecked.set(this.tables, (checked = new Set()));
    if (checked.has(this.baseRepository) && !force) return;
    const rows = await this.rows();
    if (rows.length === 0) {
      const copy = await newestRegistryCopy(this.copies.blobs, this.provider, this.baseRepository);
      if (copy && copy.rows.length > 0) {
        await this.tables.ensureTable(this.table);
        for (const row of copy.rows) await this.tables.upsert(this.table, row);
        this.recovered = { tenants: copy.rows.length, from: copy.name, skippedCopies: copy.skipped };
      }
    } else if (!(await hasRegistryCopy(this.copies.blobs, this.baseRepository))) await this.writeCopy();
    checked.add(this.baseRepository);
  }

  private async writeCopy(): Promise<void> {
    if (this.copies) await writeRegistryCopy(this.copies, this.provider(), this.baseRepository, await this.rows());
  }

  async add(t: Omit<TenantRecord, 'repository' | 'created' | 'auth' | 'restoreClientId' | 'restoreAuth'>, credential: { clientSecret?: string; certificatePem?: string }, restore?: RestoreApp): Promise<TenantRecord> {
    validateTenantName(t.name);
    await this.checkCopies();
    const secret = credential.clientSecret ?? credential.certificatePem;
    if (!secret) throw new BackupError('USAGE', 'A tenant needs --client-secret-file or --certificate.');
    await this.tables.ensureTable(this.table);
    const restoreSecret = restore ? (restore.clientSecret ?? restore.certificatePem) : undefined;
    if (restore && !restoreSecret) throw new BackupError('USAGE', 'The restore app registration needs --restore-client-secret-file or --restore-certificate.');
    const record: TenantRecord = {
      ...t,
      auth: credential.clientSecret ? 'secret' : 'certificate',
      repository: tenantRepositoryName(this.baseRepository, t.name),
      created: new Date().toISOString(),
      ...(restore ? { restoreClientId: restore.clientId, restoreAuth: restore.clientSecret ? ('secret' as const) : ('certificate' as const) } : {}),
    };
    const sealed = await wrapEnvelope(this.provider(), Buffer.from(secret, 'utf8'), `tenant-credential:${t.name}`);
    const restoreSealed = restoreSecret ? { restoreCredential: await wrapEnvelope(this.provider(), Buffer.from(restoreSecret, 'utf8'), `tenant-restore-credential:${t.name}`) } : {};
    try {
      await this.tables.create(this.table, { partitionKey: PK, rowKey: t.name, ...record, credential: sealed, ...restoreSealed });
    } catch (e) {
      if (e instanceof BackupError && e.code === 'ALREADY_EXISTS')
        throw new BackupError('ALREADY_EXISTS', `Tenant "${t.name}" is already registered.`, { hint: `Remove it first (m365-backup tenant remove --name ${t.name}); its backups are kept.` });
      throw e;
    }
    await this.writeCopy();
    return record;
  }

  async list(): Promise<TenantRecord[]> {
    await this.checkCopies();
    return (await this.rows()).map(toRecord);
  }

  async get(name: string): Promise<TenantRecord & { credential: Uint8Array; restoreCredential?: Uint8Array }> {
    validateTenantName(name);
    await this.checkCopies();
    let row;
    try {
      row = await this.tables.get(this.table, PK, name);
    } catch (e) {
      if (!(e instanceof BackupError && e.code === 'NOT_FOUND')) throw e;
    }
    if (!row && this.copies) {
      // The table may have been emptied since this process checked: look at the copies again.
      await this.checkCopies(true);
      if (this.recovered) row = await this.tables.get(this.table, PK, name);
    }
    if (!row) {
      const known = (await this.list()).map((t) => t.name);
      throw new BackupError('NOT_FOUND', `Unknown tenant "${name}".${known.length ? ` Registered tenants: ${known.join(', ')}.` : ' No tenant is registered yet.'}`, {
        hint: 'Add one with m365-backup tenant add --name <n> --tenant-id <id> --client-id <id> --client-secret-file <f>.',
      });
    }
    return { ...toRecord(row), credential: row.credential as Uint8Array, ...(row.restoreCredential instanceof Uint8Array ? { restoreCredential: row.restoreCredential } : {}) };
  }

  /**
   * The tenant's credentials, unwrapped (they live only in memory). In Azure a client secret may
   * instead come from a Key Vault reference app setting (M365_TENANT_SECRET_<NAME>), which wins.
   */
  async credentials(name: string, env: NodeJS.ProcessEnv = process.env): Promise<TenantCredentials> {
    const t = await this.get(name);
    const referenced = env[`${TENANT_SECRET_PREFIX}${t.name.toUpperCase()}`];
    if (referenced && referenced.trim() !== '' && !referenced.startsWith('@Microsoft.KeyVault('))
      return { name: t.name, tenantId: t.tenantId, clientId: t.clientId, clientSecret: referenced.trim() };
    const secret = (await unwrapEnvelope(this.provider(), t.credential, `tenant-credential:${t.name}`, `the credential of tenant "${t.name}"`)).toString('utf8');
    return { name: t.name, tenantId: t.tenantId, clientId: t.clientId, ...(t.auth === 'secret' ? { clientSecret: secret } : { certificatePem: secret }) };
  }

  /**
   * The credentials restores write with: the restore app registration's when the tenant has one
   * (M365_TENANT_RESTORE_SECRET_<NAME> may hold its secret in Azure), else the tenant's own app.
   */
  async restoreCredentials(name: string, env: NodeJS.ProcessEnv = process.env): Promise<TenantCredentials> {
    const t = await this.get(name);
    if (!t.restoreClientId || !t.restoreCredential) return this.credentials(name, env);
    const referenced = env[`${TENANT_RESTORE_SECRET_PREFIX}${t.name.toUpperCase()}`];
    if (referenced && referenced.trim() !== '' && !referenced.startsWith('@Microsoft.KeyVault('))
      return { name: t.name, tenantId: t.tenantId, clientId: t.restoreClientId, clientSecret: referenced.trim() };
    const secret = (await unwrapEnvelope(this.provider(), t.restoreCredential, `tenant-restore-credential:${t.name}`, `the restore credential of tenant "${t.name}"`)).toString('utf8');
    return { name: t.name, tenantId: t.tenantId, clientId: t.restoreClientId, ...(t.restoreAuth === 'certificate' ? { certificatePem: secret } : { clientSecret: secret }) };
  }

  /** Turns the tenant's chats setting on or off (only that property of the row is written: credentials untouched). */
  async setChats(name: string, on: boolean): Promise<TenantRecord> {
    await this.get(name); // validates the name, NOT_FOUND with the registered names
    await this.tables.merge(this.table, { partitionKey: PK, rowKey: name, chats: on });
    await this.writeCopy();
    return toRecord((await this.tables.get(this.table, PK, name))!);
  }

  async remove(name: string): Promise<void> {
    await this.get(name); // validates the name
    await this.tables.delete(this.table, PK, name);
    await this.writeCopy();
  }
}

function toRecord(row: Record<string, unknown>): TenantRecord {
  return {
    name: String(row.name),
    tenantId: String(row.tenantId),
    clientId: String(row.clientId),
    auth: row.auth === 'certificate' ? 'certificate' : 'secret',
    repository: String(row.repository),
    created: String(row.created),
    ...(row.chats === true ? { chats: true } : {}),
    ...(typeof row.restoreClientId === 'string' ? { restoreClientId: row.restoreClientId, restoreAuth: row.restoreAuth === 'certificate' ? ('certificate' as const) : ('secret' as const) } : {}),
  };
}
