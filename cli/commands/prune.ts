import { BackupError } from '../../shared/errors';
import type { PrivateKey } from '../../shared/crypto';
import { SETTING_NAMES } from '../../shared/config';
import { prune, type PruneResult, type Repository, type TierPrices } from '../../shared/repo';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { formatBytes } from '../format';
import { refuseAt } from '../selection';

/**
 * prune [--dry-run]: deletes item versions, chunks and packs no kept snapshot needs, and repacks
 * partly used packs. Only repacking needs the password (it opens chunks to copy them); without a
 * password source (--password-file, M365_BACKUP_PASSWORD, a terminal) partly used packs are kept whole.
 */
export async function pruneCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseAt(args, 'prune');
  if (args.positionals.length) throw new BackupError('USAGE', 'prune takes no arguments: m365-backup prune [--dry-run] [--tenant <n>].');
  if (args.m365.user || args.m365.services) throw new BackupError('USAGE', 'prune acts on the whole repository (chunks are shared): it takes no --user or --service.');
  const { repo } = await ctx.repositoryFor(args.m365.tenant);
  printPrune(ctx, await prune(repo, pruneOptions(ctx, args, repo)));
  return 0;
}

/** The prune options the flags give (also used by forget --prune). */
export function pruneOptions(ctx: CliContext, args: ParsedArgs, repo: Repository): { dryRun: boolean; earlyDeletion: 'defer' | 'pay'; prices: TierPrices; privateKey?: () => Promise<PrivateKey> } {
  const canAsk = !!ctx.options.passwordFile || !!process.env[SETTING_NAMES.password] || !!process.stdin.isTTY;
  return {
    dryRun: args.retention.dryRun,
    earlyDeletion: args.retention.deleteEarly ? 'pay' : 'defer',
    prices: ctx.settings.storagePrices,
    ...(canAsk ? { privateKey: async () => repo.unlock(await ctx.password('repack partly used packs')) } : {}),
  };
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
  if (r.repackedPacks)
    console.log(`${r.dryRun ? 'would repack' : 'repacked'} ${r.repackedPacks} partly used pack(s): ${r.repackedChunks} live chunk(s) copied into ${formatBytes(r.repackWrittenBytes)} of new packs (counted in the bytes reclaimed).`);
  if (r.repackNeedsKey) console.log(`${r.repackNeedsKey} partly used pack(s) kept whole: repacking needs the password (--password-file or M365_BACKUP_PASSWORD).`);
  const refused = r.repackRefused.archive + r.repackRefused['legal-hold'] + r.repackRefused.fee;
  if (refused)
    console.log(`${refused} partly used pack(s) not repacked: ${r.repackRefused.archive} in Archive (never rewritten), ${r.repackRefused['legal-hold']} under a legal hold, ${r.repackRefused.fee} whose early-deletion fee or lock outweighs the saving.`);
  if (r.deferredPacks)
    console.log(
      `${r.deferredPacks} dead pack(s) (${formatBytes(r.deferredBytes)}) kept for now: ${describeDeferred(r)}; deletable from ${r.nextDeletableAt ?? 'never (legal hold)'}.` +
        (r.feeAvoided > 0 ? ` Deleting them now would be billed ~${r.feeAvoided.toFixed(4)} in early-deletion fees (--delete-early).` : ''),
    );
  if (r.feePaid > 0) console.log(`Early-deletion fees this prune caused: ~${r.feePaid.toFixed(4)}.`);
  if (r.taggedGarbage) console.log(`${r.taggedGarbage} pack blob(s) could not be deleted (immutable): tagged garbage for the storage account's lifecycle rule.`);
  if (r.locksExtended) console.log(`${r.locksExtended} lock(s) of kept packs, pack indexes and catalogs extended to the current immutability generation.`);
  if (r.rescued) console.log(`${r.rescued} chunk(s) a concurrent backup started using were kept.`);
}

function describeDeferred(r: PruneResult): string {
  const parts: string[] = [];
  if (r.deferredFor['tier-minimum']) parts.push(`${r.deferredFor['tier-minimum']} inside their tier's minimum days`);
  if (r.deferredFor.immutability) parts.push(`${r.deferredFor.immutability} under an immutability policy`);
  if (r.deferredFor['legal-hold']) parts.push(`${r.deferredFor['legal-hold']} under a legal hold`);
  return parts.join(', ');
}
