import { Repository } from '../../shared/repo';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { readNewPassword } from '../password';
import { SETTING_NAMES } from '../../shared/config';
import { refuseAt, refuseTenant } from '../selection';

export async function initCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseTenant(args, 'init', 'tenant add creates a tenant\'s repository.');
  refuseAt(args, 'init');
  const password = ctx.options.passwordFile || process.env[SETTING_NAMES.password]
    ? await ctx.password('initialise the repository')
    : await readNewPassword(args.newPasswordFile, undefined);
  const provider = ctx.provider(true);
  const repo = await Repository.init(await ctx.stores(), provider, { name: ctx.settings.repository, password, argon2: ctx.argon2 });
  console.log(`Initialised repository "${repo.layout.name}" (id ${repo.config.repositoryId}); keys protected by ${provider.description}.`);
  if (provider.kind === 'local') console.log('Keep a copy of the key file and the password in a safe place: without both, the backups cannot be read.');
  return 0;
}
