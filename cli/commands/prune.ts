import { BackupError } from '../../shared/errors';
import { prune, type PruneResult } from '../../shared/repo';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { formatBytes } from '../format';
import { refuseAt } from '../selection';

/** prune [--dry-run]: deletes item versions, chunks and packs no kept snapshot needs (no password). */
export async function pruneCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseAt(args, 'prune');
  if (args.positionals.length) throw new BackupError('USAGE', 'prune takes no arguments: m365-backup prune [--dry-run] [--tenant <n>].');
  if (args.m365.user || args.m365.services) throw new BackupError('USAGE', 'prune acts on the whole repository (chunks are shared): it takes no --user or --service.');
  const { repo } = await ctx.repositoryFor(args.m365.tenant);
  printPrune(ctx, await prune(repo, { dryRun: args.retention.dryRun }));
  return 0;
}

export function printPrune(ctx: CliContext, r: PruneResult): void {
  if (ctx.options.json) {
    console.log(JSON.stringify(r, null, 2));
    return;
  }
  const verb = r.dryRun ? 'would delete' : 'deleted';
  console.log(
    `prune ${verb} ${r.deadItemRows} item row(s), ${r.deadChunks} chunk(s) in ${r.deadPacks} pack(s) and ${r.unreferencedPacks} unreferenced pack(s): ` +
      `${r.dryRun ? 'would reclaim' : 'reclaimed'} ${formatBytes(r.reclaimBytes)}; ${r.keptPacks} pack(s) kept.`,
  );
  if (r.partlyUsedPacks) console.log(`${r.partlyUsedPacks} partly used pack(s) kept whole (${formatBytes(r.partlyUsedDeadBytes)} of dead chunks in them; repacking is not implemented yet).`);
  if (r.rescued) console.log(`${r.rescued} chunk(s) a concurrent backup started using were kept.`);
}
