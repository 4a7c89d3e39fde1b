import { readFileSync } from 'node:fs';
import { SETTING_NAMES } from '../../shared/config';
import { BackupError, isBackupError } from '../../shared/errors';
import { listAll } from '../../shared/graph';
import { Repository } from '../../shared/repo';
import { validateTenantName } from '../../shared/tenants/registry';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { readNewPassword } from '../password';

function readSecretFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BackupError('USAGE', `The ${what} file ${path} cannot be read (${(e as NodeJS.ErrnoException).code}).`);
  }
  const v = text.replace(/\r?\n$/, '');
  if (v.trim() === '') throw new BackupError('USAGE', `The ${what} file ${path} is empty.`);
  return v;
}

/** tenant add | list | remove: the MSP's tenants, each with its own repository and password. */
export async function tenantCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [sub, extra] = args.positionals;
  if (extra || !['add', 'list', 'remove'].includes(sub ?? '')) throw new BackupError('USAGE', 'Use: m365-backup tenant add|list|remove ...');
  const registry = await ctx.tenants(sub === 'add');
  if (sub === 'list') {
    const list = await registry.list();
    if (ctx.options.json) console.log(JSON.stringify(list, null, 2));
    else if (list.length === 0) console.log('No tenant is registered yet.');
    else for (const t of list) console.log(`${t.name.padEnd(24)} tenant ${t.tenantId}  app ${t.clientId}  ${t.auth}  repository ${t.repository}`);
    return 0;
  }
  const a = args.tenantAdd;
  if (!a.name) throw new BackupError('USAGE', `tenant ${sub} needs --name <tenant>.`);
  validateTenantName(a.name);
  if (sub === 'remove') {
    await registry.remove(a.name);
    console.log(`Removed tenant "${a.name}" from the registry. Its backups stay in repository ${ctx.settings.repository}${a.name}.`);
    return 0;
  }
  if (!a.tenantId || !a.clientId) throw new BackupError('USAGE', 'tenant add needs --tenant-id and --client-id.');
  if (!!a.clientSecretFile === !!a.certificate) throw new BackupError('USAGE', 'tenant add needs exactly one of --client-secret-file or --certificate.');
  const credential = a.clientSecretFile ? { clientSecret: readSecretFile(a.clientSecretFile, 'client secret') } : { certificatePem: readSecretFile(a.certificate!, 'certificate') };
  if (credential.certificatePem && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(credential.certificatePem))
    throw new BackupError('USAGE', `The certificate file ${a.certificate} must hold the certificate and its private key (PEM).`);

  if (!a.skipCheck) {
    // Proves the credentials before storing them: one page of one user.
    const conn = ctx.graph({ name: a.name, tenantId: a.tenantId, clientId: a.clientId, ...credential });
    await listAll(conn, '/users?$select=id&$top=1', `the users of tenant "${a.name}"`).catch((e: unknown) => {
      if (isBackupError(e)) throw e;
      throw new BackupError('SOURCE', `Tenant "${a.name}": Microsoft Graph refused the check (${String((e as Error).message)}).`);
    });
  }
  const record = await registry.add({ name: a.name, tenantId: a.tenantId, clientId: a.clientId }, credential);
  // The tenant's repository: its own keys, sealed under its own password.
  const stores = await ctx.stores();
  try {
    await Repository.open(stores, () => ctx.provider(), record.repository);
    console.log(`Registered tenant "${a.name}"; its existing repository ${record.repository} is reused (its password is unchanged).`);
  } catch (e) {
    if (!(isBackupError(e) && e.code === 'NOT_INITIALISED')) throw e;
    const password = ctx.options.passwordFile || process.env[SETTING_NAMES.password] ? await ctx.password(`protect tenant "${a.name}"`) : await readNewPassword(args.newPasswordFile, undefined);
    await Repository.init(stores, ctx.provider(true), { name: record.repository, password, argon2: ctx.argon2 });
    console.log(`Registered tenant "${a.name}" with its own repository ${record.repository}; the client ${record.auth} is stored wrapped by ${ctx.provider().description}.`);
  }
  return 0;
}
