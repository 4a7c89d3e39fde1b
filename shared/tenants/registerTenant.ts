import type { Argon2Params, KeyWrapProvider } from '../crypto';
import { BackupError, isBackupError } from '../errors';
import { listAll, type GraphConnection, type TenantCredentials } from '../graph';
import { Repository, type Stores } from '../repo';
import { validateTenantName, type TenantRecord, type TenantRegistry } from './registry';

/** What registration needs of the app (AppServices provides it). */
export interface RegistrationServices {
  readonly argon2: Argon2Params;
  tenants(create?: boolean): Promise<TenantRegistry>;
  stores(): Promise<Stores>;
  provider(create?: boolean): KeyWrapProvider;
  graph(credentials: TenantCredentials): GraphConnection;
}

export type TenantCredential = { clientSecret: string; certificatePem?: undefined } | { certificatePem: string; clientSecret?: undefined };

export interface RegisterTenantInput {
  name: string;
  tenantId: string;
  clientId: string;
  credential: TenantCredential;
  /** A second app registration used only for restores (write roles). */
  restore?: { clientId: string; credential: TenantCredential };
  /** Back up the tenant's one-on-one and group chats by default (needs Chat.Read.All, a protected API). */
  chats?: boolean;
  /** Store the credentials without proving them against Microsoft Graph first (offline set-up). */
  skipCheck?: boolean;
  /** The password for the tenant's new repository; asked for only when it has none yet. */
  newPassword: () => Promise<string>;
}

export interface RegisterTenantResult {
  record: TenantRecord;
  /** Whether the tenant's repository existed (kept, with its password) or was created. */
  repository: 'reused' | 'created';
  /** How the stored credential is protected (the key provider's description). */
  protectedBy: string;
}

/** Proves the credentials before storing them: one page of one user. */
async function checkCredentials(services: RegistrationServices, credentials: TenantCredentials): Promise<void> {
  await listAll(services.graph(credentials), '/users?$select=id&$top=1', `the users of tenant "${credentials.name}"`).catch((e: unknown) => {
    if (isBackupError(e)) throw e;
    throw new BackupError('SOURCE', `Tenant "${credentials.name}": Microsoft Graph refused the check (${String((e as Error).message)}).`);
  });
}

async function repositoryExists(stores: Stores, provider: () => KeyWrapProvider, name: string): Promise<boolean> {
  try {
    await Repository.open(stores, provider, name);
    return true;
  } catch (e) {
    if (isBackupError(e, 'NOT_INITIALISED')) return false;
    throw e;
  }
}

/**
 * Registers an MSP's tenant: its credential wrapped by the key provider in the registry, and its
 * own repository (own keys, own password). A repository left by an earlier registration is reused
 * with its password; if the new one cannot be created, the registration is undone.
 */
export async function registerTenant(services: RegistrationServices, input: RegisterTenantInput): Promise<RegisterTenantResult> {
  validateTenantName(input.name);
  const { credential } = input;
  if (credential.certificatePem !== undefined && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(credential.certificatePem))
    throw new BackupError('USAGE', `The certificate of tenant "${input.name}" must hold the certificate and its private key (PEM).`);
  if ((credential.clientSecret ?? credential.certificatePem ?? '').trim() === '') throw new BackupError('USAGE', `The credential of tenant "${input.name}" is empty.`);
  if (!input.skipCheck) await checkCredentials(services, { name: input.name, tenantId: input.tenantId, clientId: input.clientId, ...credential });
  if (input.restore && (input.restore.credential.clientSecret ?? input.restore.credential.certificatePem ?? '').trim() === '') throw new BackupError('USAGE', `The restore credential of tenant "${input.name}" is empty.`);
  if (input.restore && !input.skipCheck) await checkCredentials(services, { name: input.name, tenantId: input.tenantId, clientId: input.restore.clientId, ...input.restore.credential });

  const registry = await services.tenants(true);
  const record = await registry.add({ name: input.name, tenantId: input.tenantId, clientId: input.clientId, ...(input.chats ? { chats: true } : {}) }, credential, input.restore ? { clientId: input.restore.clientId, ...input.restore.credential } : undefined);
  const protectedBy = services.provider().description;
  const stores = await services.stores();
  try {
    if (await repositoryExists(stores, () => services.provider(), record.repository)) return { record, repository: 'reused', protectedBy };
    await Repository.init(stores, services.provider(true), { name: record.repository, password: await input.newPassword(), argon2: services.argon2 });
  } catch (e) {
    await registry.remove(input.name).catch(() => undefined);
    throw e;
  }
  return { record, repository: 'created', protectedBy };
}
