import { BackupError } from '../../shared/errors';
import { prune } from '../../shared/repo';
import { applyRetention, forgetTenantPage, validateKeepRules, type ForgetOutcome, type KeepRules } from '../../shared/retention';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { refuseAt, servicesOf } from '../selection';
import { printPrune, pruneOptions } from './prune';

/**
 * forget [--keep-* ...] [--prune] [--dry-run]: restic's forget. With no --keep-* flag the stored
 * policy decides (default: keep everything). A folder partition (--partition, default "default") or
 * a tenant's users and services (--tenant [--user] [--service]).
 */
export async function forgetCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseAt(args, 'forget');
  if (args.positionals.length) throw new BackupError('USAGE', 'forget takes no arguments: m365-backup forget [--keep-* N] [--keep-within 30d] [--prune] [--dry-run].');
  if (args.m365.tenant && args.partitionGiven) throw new BackupError('USAGE', 'forget --tenant selects with --user and --service, not --partition.');
  const r = args.retention;
  const rules: KeepRules | undefined = Object.keys(r.keep).length ? validateKeepRules(r.keep, 'the command line') : undefined;
  const { repo } = await ctx.repositoryFor(args.m365.tenant);
  let outcomes: ForgetOutcome[] = [];
  if (args.m365.tenant) {
    let after: string | undefined;
    do {
      const page = await forgetTenantPage(repo, args.m365.tenant, { services: servicesOf(args), user: args.m365.user, after, rules, dryRun: r.dryRun });
      outcomes = outcomes.concat(page.outcomes);
      after = page.next;
    } while (after);
  } else outcomes = await applyRetention(repo, [{ partitionName: ctx.options.partition, user: ctx.options.partition, label: `partition ${ctx.options.partition}` }], { rules, dryRun: r.dryRun });
  if (ctx.options.json && !r.prune) console.log(JSON.stringify(outcomes, null, 2));
  else if (!ctx.options.json)
    for (const o of outcomes) {
      const drop = o.decisions.filter((d) => !d.keep);
      console.log(`${o.label} (${o.applied}): keep ${o.decisions.length - drop.length}, ${r.dryRun ? 'would forget' : 'forgot'} ${r.dryRun ? drop.length : o.forgotten.length}`);
      for (const d of o.decisions) if (!ctx.options.quiet) console.log(`  ${String(d.seq).padStart(5)}  ${d.time}  ${d.keep ? `keep (${d.reasons.join(', ')})` : r.dryRun ? 'would forget' : 'forgotten'}`);
    }
  if (r.prune) printPrune(ctx, await prune(repo, pruneOptions(ctx, args, repo)));
  return 0;
}
