import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BackupError } from '../shared/errors';

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

Commands:
  init                                   create the repository (asks for a new password)
  backup <dir>                           back up a folder (no password needed)
  snapshots                              list snapshots of the partition (--all: every partition)
  ls <snapshot>                          list the files of a snapshot (password)
  restore <snapshot|latest> <target-dir> restore a snapshot (password) [--include <path>]... [--force]
  verify [--read-data]                   check the repository (--read-data: decrypt everything; password)
  change-password                        re-wrap the key under a new password
  rebuild-index                          rebuild the Table index from the pack-index and catalog blobs

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
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

export interface ParsedArgs {
  command?: string;
  positionals: string[];
  global: GlobalOptions;
  readData: boolean;
  include?: string[];
  force: boolean;
  all: boolean;
  workers?: number;
  newPasswordFile?: string;
  help: boolean;
}

export function parseCli(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new BackupError('USAGE', (e as Error).message.split('\n')[0]!);
  }
  const v = parsed.values;
  const [command, ...positionals] = parsed.positionals;
  let workers: number | undefined;
  if (v.workers !== undefined) {
    workers = Number(v.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 16) throw new BackupError('USAGE', '--workers takes a whole number from 1 to 16.');
  }
  const partition = v.partition ?? 'default';
  if (partition.trim() === '') throw new BackupError('USAGE', '--partition must not be empty.');
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
    include: v.include,
    force: v.force ?? false,
    all: v.all ?? false,
    workers,
    newPasswordFile: v['new-password-file'],
    help: v.help ?? false,
  };
}
