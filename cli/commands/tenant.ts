import { readFileSync } from 'node:fs';
import { SETTING_NAMES } from '../../shared/config';
import { BackupError } from '../../shared/errors';
import { registerTenant, type TenantCredential } from '../../shared/tenants/registerTenant';
import { tenantRepositoryName, validateTenantName } from '../../shared/tenants/registry';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { readNewPassword } from '../password';
import { refuseTenant } from '../selection';

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
  refuseTenant(args, 'tenant', 'name the tenant with --name.');
  const [sub, extra] = args.positionals;
  if (extra || !['add', 'list', 'remove', 'set'].includes(sub ?? '')) throw new BackupError('USAGE', 'Use: m365-backup tenant add|list|remove|set ...');
  if (sub === 'list') return listTenants(ctx);
  const name = args.tenantAdd.name;
  if (name === undefined) throw new BackupError('USAGE', `tenant ${sub} needs --name <tenant>.`);
  validateTenantName(name);
  if (sub === 'set') return setTenant(ctx, args, name);
  return sub === 'remove' ? removeTenant(ctx, name) : addTenant(ctx, args, name);
}

async function listTenants(ctx: CliContext): Promise<number> {
  const list = await (await ctx.tenants()).list();
  if (ctx.options.json) console.log(JSON.stringify(list, null, 2));
  else if (list.length === 0) console.log('No tenant is registered yet.');
  else for (const t of list) console.log(`${t.name.padEnd(24)} tenant ${t.tenantId}  app ${t.clientId}  ${t.auth}  repository ${t.repository}${t.restoreClientId ? `  restore app ${t.restoreClientId}` : ''}${t.chats ? '  chats on' : ''}`);
  return 0;
}

/** tenant set --name <n> --chats on|off: the tenant's settings (today: whether its default backup includes chats). */
async function setTenant(ctx: CliContext, args: ParsedArgs, name: string): Promise<number> {
  const chats = args.tenantAdd.chats;
  if (chats === undefined) throw new BackupError('USAGE', 'tenant set needs --chats on|off.');
  const record = await (await ctx.tenants()).setChats(name, chats);
  console.log(`Tenant "${record.name}": chats ${record.chats ? 'on (its default backup includes one-on-one and group chats; the app needs Chat.Read.All)' : 'off (backed up only with --service chats)'}.`);
  return 0;
}

async function removeTenant(ctx: CliContext, name: string): Promise<number> {
  await (await ctx.tenants()).remove(name);
  console.log(`Removed tenant "${name}" from the registry. Its backups stay in repository ${tenantRepositoryName(ctx.settings.repository, name)}.`);
  return 0;
}

async function addTenant(ctx: CliContext, args: ParsedArgs, name: string): Promise<number> {
  const a = args.tenantAdd;
  if (!a.tenantId || !a.clientId) throw new BackupError('USAGE', 'tenant add needs --tenant-id and --client-id.');
  if (!!a.clientSecretFile === !!a.certificate) throw new BackupError('USAGE', 'tenant add needs exactly one of --client-secret-file or --certificate.');
  const credential: TenantCredential = a.clientSecretFile
    ? { clientSecret: readSecretFile(a.clientSecretFile, 'client secret') }
    : { certificatePem: readSecretFile(a.certificate!, 'certificate') };
  if ((a.restoreClientSecretFile || a.restoreCertificate) && !a.restoreClientId) throw new BackupError('USAGE', 'A restore credential belongs to a restore app registration: add --restore-client-id.');
  if (a.restoreClientId && !!a.restoreClientSecretFile === !!a.restoreCertificate) throw new BackupError('USAGE', '--restore-client-id needs exactly one of --restore-client-secret-file or --restore-certificate.');
  const restore = a.restoreClientId
    ? { clientId: a.restoreClientId, credential: (a.restoreClientSecretFile ? { clientSecret: readSecretFile(a.restoreClientSecretFile, 'restore client secret') } : { certificatePem: readSecretFile(a.restoreCertificate!, 'restore certificate') }) as TenantCredential }
    : undefined;
  const r = await registerTenant(ctx, {
    name,
    tenantId: a.tenantId,
    clientId: a.clientId,
    credential,
    ...(restore ? { restore } : {}),
    ...(a.chats ? { chats: true } : {}),
    skipCheck: a.skipCheck,
    newPassword: () =>
      ctx.options.passwordFile || process.env[SETTING_NAMES.password] ? ctx.password(`protect tenant "${name}"`) : readNewPassword(args.newPasswordFile, undefined),
  });
  if (r.repository === 'reused') console.log(`Registered tenant "${name}"; its existing repository ${r.record.repository} is reused (its password is unchanged).`);
  else console.log(`Registered tenant "${name}" with its own repository ${r.record.repository}; the client ${r.record.auth} is stored wrapped by ${r.protectedBy}.`);
  return 0;
}
