#!/usr/bin/env node
import { BackupError, exitCodeOf, isBackupError } from '../shared/errors';
import { redactSecrets } from '../shared/redact';
import { parseCli, USAGE, type ParsedArgs } from './args';
import { CliContext } from './context';
import { backupCommand } from './commands/backup';
import { changePasswordCommand } from './commands/changePassword';
import { initCommand } from './commands/init';
import { lsCommand } from './commands/ls';
import { rebuildIndexCommand } from './commands/rebuildIndex';
import { restoreCommand } from './commands/restore';
import { snapshotsCommand } from './commands/snapshots';
import { verifyCommand } from './commands/verify';
import { tenantCommand } from './commands/tenant';
import { policyCommand } from './commands/policy';
import { forgetCommand } from './commands/forget';
import { pruneCommand } from './commands/prune';
import { reportCommand } from './commands/report';

type Command = (ctx: CliContext, args: ParsedArgs) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  init: initCommand,
  backup: backupCommand,
  snapshots: snapshotsCommand,
  ls: lsCommand,
  restore: restoreCommand,
  verify: verifyCommand,
  'change-password': changePasswordCommand,
  'rebuild-index': rebuildIndexCommand,
  tenant: (ctx, args) => (args.positionals[0] === 'policy' ? policyCommand(ctx, { ...args, positionals: args.positionals.slice(1) }) : tenantCommand(ctx, args)),
  policy: policyCommand,
  forget: forgetCommand,
  prune: pruneCommand,
  report: reportCommand,
};

/** Runs the CLI and returns the exit code: 0 ok, 1 error, 2 usage, 3 some items failed. */
export async function main(argv: string[]): Promise<number> {
  let ctx: CliContext | undefined;
  try {
    const args = parseCli(argv);
    if (args.help || !args.command) {
      console.log(USAGE);
      return args.command || args.help ? 0 : 2;
    }
    const command = COMMANDS[args.command];
    if (!command) throw new BackupError('USAGE', `Unknown command "${args.command}".`, { hint: 'Run m365-backup --help for the list.' });
    ctx = new CliContext(args.global);
    return await command(ctx, args);
  } catch (e) {
    return reportError(e);
  } finally {
    await ctx?.close().catch(() => undefined);
  }
}

/** The one error printer: one redacted sentence (and a hint); the exit code from the code table. */
function reportError(e: unknown): number {
  const secrets = [process.env.M365_BACKUP_PASSWORD];
  if (isBackupError(e)) {
    console.error(`m365-backup: ${redactSecrets(e.message, secrets)}`);
    if (e.hint) console.error(`hint: ${redactSecrets(e.hint, secrets)}`);
    if (process.env.M365_BACKUP_DEBUG && e.cause) console.error(redactSecrets(String((e.cause as Error)?.stack ?? e.cause), secrets));
    return exitCodeOf(e);
  }
  console.error(`m365-backup: unexpected error: ${redactSecrets(String((e as Error)?.stack ?? e), secrets)}`);
  return 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
