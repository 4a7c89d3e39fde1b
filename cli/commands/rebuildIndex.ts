import { BackupError } from '../../shared/errors';
import { rebuildIndex } from '../../shared/repo';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { refuseAt, refuseFolderOptions } from '../selection';

export async function rebuildIndexCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseFolderOptions(args, 'rebuild-index');
  refuseAt(args, 'rebuild-index');
  if (args.positionals.length) throw new BackupError('USAGE', 'rebuild-index takes no arguments: m365-backup rebuild-index [--tenant <n>].');
  const { repo, label } = await ctx.repositoryFor(args.m365.tenant);
  const r = await rebuildIndex(repo, (what, n) => {
    if (!ctx.options.quiet && process.stderr.isTTY) process.stderr.write(`\rrebuilding ${what}: ${n}\x1b[K`);
  });
  if (!ctx.options.quiet && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  console.log(`Rebuilt the index of ${label}: ${r.packs} packs, ${r.chunks} chunks, ${r.snapshots} snapshots, ${r.itemRows} item versions.`);
  for (const d of r.damaged) console.error(`damaged: ${d}`);
  return r.damaged.length > 0 ? 3 : 0;
}
