import { SETTING_NAMES } from '../../shared/config';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { readNewPassword } from '../password';

export async function changePasswordCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const repo = await ctx.repository();
  const oldPassword = await ctx.password('current password');
  const newPassword = await readNewPassword(args.newPasswordFile, process.env[`${SETTING_NAMES.password}_NEW`]);
  await repo.changePassword(oldPassword, newPassword, ctx.argon2);
  console.log('Password changed. The old password no longer opens this repository; no data was rewritten.');
  return 0;
}
