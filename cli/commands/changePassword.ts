import { SETTING_NAMES } from '../../shared/config';
import { BackupError } from '../../shared/errors';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { refuseAt, refuseFolderOptions } from '../selection';
import { readNewPassword } from '../password';

export async function changePasswordCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseFolderOptions(args, 'change-password');
  refuseAt(args, 'change-password');
  if (args.positionals.length) throw new BackupError('USAGE', 'change-password takes no arguments: m365-backup change-password [--tenant <n>].');
  const { repo, label } = await ctx.repositoryFor(args.m365.tenant);
  const oldPassword = await ctx.password('current password');
  const newPassword = await readNewPassword(args.newPasswordFile, process.env[`${SETTING_NAMES.password}_NEW`]);
  await repo.changePassword(oldPassword, newPassword, ctx.argon2);
  console.log(`Password of ${label} changed. The old password no longer opens it; no data was rewritten.`);
  return 0;
}
