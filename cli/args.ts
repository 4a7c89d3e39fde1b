import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BackupError } from '../shared/errors';
import { SERVICES, servicesNamed, type Service } from '../shared/m365';

export interface GlobalOptions {
  storage?: string;
  dataDir?: string;
  repository?: string;
  keyVault?: string;
  keyName?: string;
  passwordFile?: string;
  partition: string;
  json: boolean;
  quiet: boolean;
}

export const USAGE = `Usage: m365-backup <command> [options]

Folder repository (the default; --tenant <n> makes ls, snapshots, restore, verify, change-password
and rebuild-index act on that tenant's repository instead):
  init                                   create the repository (asks for a new password)
  backup <dir>                           back up a folder (no password needed)
  snapshots                              list snapshots of the partition (--all: every partition)
  ls <snapshot>                          list the files of a snapshot (password) [--include <path>]...
  restore <snapshot> <target-dir>        restore a snapshot (password) [--include <path>]... [--force]
  verify [--read-data]                   check the repository (--read-data: decrypt everything; password)
  change-password                        re-wrap the key under a new password
  rebuild-index                          rebuild the Table index from the pack-index and catalog blobs

Microsoft 365 (per tenant; each tenant has its own repository and password):
  tenant add --name <n> --tenant-id <id> --client-id <id> (--client-secret-file <f> | --certificate <pem-file>)
             [--restore-client-id <id> (--restore-client-secret-file <f> | --restore-certificate <pem-file>)] [--chats on|off]
  tenant set --name <n> --chats on|off   chats in the tenant's default backup (off: Chat.Read.All is a protected API)
  tenant list | tenant remove --name <n>
  backup --tenant <n> [--service onedrive|mail|calendar|contacts|sharepoint|groups|teams|chats|all]... [--user <upn>]
         (all and the default: every service but chats, which runs when named or set on for the tenant)
  snapshots --tenant <n> [--user <upn>] [--service <s>]...
  ls <snapshot> --tenant <n> --user <upn> --service <s>     (the snapshot defaults to latest)
  restore <snapshot> <target-dir> --tenant <n> [--user <upn>] [--service <s>]... [--site <url|id>] [--team <name|id>] [--group <mail|id>]
  restore --tenant <n> [--user <upn>] [--service <s>]... [--at <time>] [--path <folder>]
          (--in-place | --to-user <upn>) [--conflict skip|rename|replace]     back into Microsoft 365
  restore --tenant <n> --site <url|id> --in-place [--path <library>/<folder>] [--conflict ...]
          a site's document libraries back into the site (lists, Teams, groups: to a folder only)
  verify [--read-data] | change-password | rebuild-index  --tenant <n>

<snapshot> is "latest", a snapshot number as "snapshots" lists it, or a date-time such as 2026-11-20 or
2026-11-20T18:00:00Z (the newest snapshot at or before it; for a tenant, each user's service as of then).
Snapshot numbers count per partition; with --tenant they need one --user and one --service.
--at <date-time> may replace the <snapshot> argument; with --tenant, "restore <target-dir>" alone
restores the latest (so "restore --tenant <n> [--at <time>] <target-dir>" keeps working).

Options:
  --partition <name>         snapshot namespace (a user or machine); default "default"
  --storage <conn-string>    storage account (or AZURE_STORAGE_CONNECTION_STRING);
                             with neither, an embedded Azurite keeps data under --data-dir
  --data-dir <dir>           local data (embedded Azurite, local key file); default ~/.m365-backup
  --repository <name>        repository name within the account; default m365backup
  --key-vault <url> --key-name <name>   protect keys with Azure Key Vault instead of the local key file
  --password-file <file>     password (or M365_BACKUP_PASSWORD, or a prompt on a terminal)
  --new-password-file <file> new password for change-password (or a prompt)
  --json                     machine-readable output (snapshots, ls, verify)
  --quiet                    no progress bar
  --workers <n>              chunking worker threads (default 2)
  GRAPH_BASE_URL, AZURE_AUTHORITY_HOST  Graph and identity endpoints (default: Microsoft's public cloud)

Retention (restic's grammar; a folder repository with --partition, or a tenant with --tenant [--user] [--service]):
  policy show | policy set [--keep-* ...] [--legal-hold on|off] [--inherit]   (also: tenant policy ... --tenant <n>)
  forget [--keep-last N] [--keep-hourly N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N]
         [--keep-yearly N] [--keep-within 30d] [--prune] [--dry-run]   (no --keep-*: the stored policy)
  prune [--dry-run] [--delete-early]     delete what no kept snapshot needs (item versions, chunks, packs);
                                         dead packs inside their tier minimum wait for it (--delete-early: pay the fee)
  report [--tenant <n>] [--json]         storage per tier and immutable generation, garbage, estimated cost per month

Exit codes: 0 ok, 1 error, 2 usage, 3 finished but some items failed.`;

const OPTIONS = {
  partition: { type: 'string' },
  storage: { type: 'string' },
  'data-dir': { type: 'string' },
  repository: { type: 'string' },
  'key-vault': { type: 'string' },
  'key-name': { type: 'string' },
  'password-file': { type: 'string' },
  'new-password-file': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  'read-data': { type: 'boolean' },
  include: { type: 'string', multiple: true },
  force: { type: 'boolean' },
  all: { type: 'boolean' },
  workers: { type: 'string' },
  tenant: { type: 'string' },
  user: { type: 'string' },
  site: { type: 'string' },
  team: { type: 'string' },
  group: { type: 'string' },
  service: { type: 'string', multiple: true },
  at: { type: 'string' },
  name: { type: 'string' },
  'tenant-id': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-file': { type: 'string' },
  certificate: { type: 'string' },
  'restore-client-id': { type: 'string' },
  'restore-client-secret-file': { type: 'string' },
  'restore-certificate': { type: 'string' },
  'in-place': { type: 'boolean' },
  'to-user': { type: 'string' },
  conflict: { type: 'string' },
  path: { type: 'string' },
  'skip-check': { type: 'boolean' },
  chats: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  // Retention (forget, prune, policy): restic's flag names.
  'keep-last': { type: 'string' },
  'keep-hourly': { type: 'string' },
  'keep-daily': { type: 'string' },
  'keep-weekly': { type: 'string' },
  'keep-monthly': { type: 'string' },
  'keep-yearly': { type: 'string' },
  'keep-within': { type: 'string' },
  'legal-hold': { type: 'string' },
  inherit: { type: 'boolean' },
  prune: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'delete-early': { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

export interface ParsedArgs {
  command?: string;
  positionals: string[];
  global: GlobalOptions;
  readData: boolean;
  /** Whether --partition was given (it names a folder partition: refused with --tenant). */
  partitionGiven: boolean;
  include?: string[];
  force: boolean;
  all: boolean;
  workers?: number;
  newPasswordFile?: string;
  help: boolean;
  /** Microsoft 365 selection: tenant, user, services, point in time. */
  m365: { tenant?: string; user?: string; services?: Service[]; at?: Date; site?: string; team?: string; group?: string };
  tenantAdd: { name?: string; tenantId?: string; clientId?: string; clientSecretFile?: string; certificate?: string; skipCheck: boolean; restoreClientId?: string; restoreClientSecretFile?: string; restoreCertificate?: string; chats?: boolean };
  /** restore into Microsoft 365: --in-place | --to-user <upn>, --conflict, --path (checked by the restore command). */
  restoreInto: { inPlace: boolean; toUser?: string; conflict?: string; path?: string };
  /** forget, prune, policy: keep rules as given (validated by shared/retention), legal hold, modes. */
  retention: RetentionArgs;
}

export interface RetentionArgs {
  keep: { last?: number; hourly?: number; daily?: number; weekly?: number; monthly?: number; yearly?: number; within?: string };
  legalHold?: boolean;
  inherit: boolean;
  prune: boolean;
  dryRun: boolean;
  /** prune: delete dead packs inside their tier minimum now and pay the early-deletion fee. */
  deleteEarly: boolean;
}

function parseRetention(v: Record<string, unknown>): RetentionArgs {
  const keep: RetentionArgs['keep'] = {};
  for (const rule of ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const) {
    const given = v[`keep-${rule}`] as string | undefined;
    if (given === undefined) continue;
    if (!/^-?\d{1,15}$/.test(given.trim())) throw new BackupError('USAGE', `--keep-${rule} takes a whole number, not "${given.slice(0, 20)}".`);
    keep[rule] = Number(given);
  }
  if (v['keep-within'] !== undefined) keep.within = nonEmpty('keep-within', v['keep-within'] as string);
  const hold = v['legal-hold'] as string | undefined;
  if (hold !== undefined && !['on', 'off'].includes(hold)) throw new BackupError('USAGE', '--legal-hold takes on or off.');
  return { keep, ...(hold !== undefined ? { legalHold: hold === 'on' } : {}), inherit: v.inherit === true, prune: v.prune === true, dryRun: v['dry-run'] === true, deleteEarly: v['delete-early'] === true };
}

/** A selection flag given as "" would select nothing or everything: either way not what was meant. */
function nonEmpty(flag: string, v: string | undefined): string | undefined {
  if (v !== undefined && v.trim() === '') throw new BackupError('USAGE', `--${flag} must not be empty.`);
  return v;
}

/** tenant add|set --chats on|off: whether the tenant's default backup includes chats. */
function parseChats(v: string | undefined): { chats?: boolean } {
  if (v === undefined) return {};
  if (v !== 'on' && v !== 'off') throw new BackupError('USAGE', '--chats takes on or off.');
  return { chats: v === 'on' };
}

function parseServices(values: string[] | undefined): Service[] | undefined {
  if (!values) return undefined;
  const out = new Set<Service>();
  for (const given of values) {
    nonEmpty('service', given);
    for (const v of given.split(',')) for (const s of servicesNamed(v, { allowAll: true })) out.add(s);
  }
  return [...out];
}

function parseAt(v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (v.trim() === '' || Number.isNaN(d.getTime())) throw new BackupError('USAGE', `--at "${v}" is not a date or time (e.g. 2026-11-20 or 2026-11-20T18:00:00Z).`);
  return d;
}

export function parseCli(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    const first = (e as Error).message.split('\n')[0]!;
    // "--keep-daily -3" reaches node's parser as an option-like value: say what the flag takes instead.
    const keep = /^Option '(--keep-[a-z]+)' argument is ambiguous/.exec(first);
    if (keep) throw new BackupError('USAGE', `${keep[1]} takes a whole number from 0 to 100000 (a negative count is not valid).`);
    throw new BackupError('USAGE', first);
  }
  const v = parsed.values;
  const [command, ...positionals] = parsed.positionals;
  let workers: number | undefined;
  if (v.workers !== undefined) {
    workers = Number(v.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 16) throw new BackupError('USAGE', '--workers takes a whole number from 1 to 16.');
  }
  const partition = nonEmpty('partition', v.partition) ?? 'default';
  const m365 = { tenant: nonEmpty('tenant', v.tenant), user: nonEmpty('user', v.user), services: parseServices(v.service), at: parseAt(v.at), site: nonEmpty('site', v.site), team: nonEmpty('team', v.team), group: nonEmpty('group', v.group) };
  const within = (['user', 'site', 'team', 'group'] as const).find((k) => m365[k] !== undefined) ?? (m365.services !== undefined ? 'service' : undefined);
  if (!m365.tenant && within) throw new BackupError('USAGE', `--${within} selects within a tenant: add --tenant <name>.`);
  return {
    command,
    positionals,
    global: {
      storage: v.storage,
      dataDir: v['data-dir'],
      repository: v.repository,
      keyVault: v['key-vault'],
      keyName: v['key-name'],
      passwordFile: v['password-file'],
      partition,
      json: v.json ?? false,
      quiet: v.quiet ?? false,
    },
    readData: v['read-data'] ?? false,
    partitionGiven: v.partition !== undefined,
    include: v.include,
    force: v.force ?? false,
    all: v.all ?? false,
    workers,
    newPasswordFile: v['new-password-file'],
    help: v.help ?? false,
    m365,
    retention: parseRetention(v),
    tenantAdd: { name: v.name, tenantId: v['tenant-id'], clientId: v['client-id'], clientSecretFile: v['client-secret-file'], certificate: v.certificate, skipCheck: v['skip-check'] ?? false, restoreClientId: v['restore-client-id'], restoreClientSecretFile: v['restore-client-secret-file'], restoreCertificate: v['restore-certificate'], ...parseChats(v.chats as string | undefined) },
    restoreInto: { inPlace: v['in-place'] ?? false, toUser: v['to-user'], conflict: v.conflict, path: v.path },
  };
}
