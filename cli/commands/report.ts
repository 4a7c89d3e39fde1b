import { BackupError } from '../../shared/errors';
import { SERVICES } from '../../shared/m365';
import { repositoryStorage, type RepositoryStorage } from '../../shared/repo';
import { tenantReport } from '../../shared/retention';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { formatBytes } from '../format';
import { refuseAt } from '../selection';

/** report [--tenant <n>] [--json]: storage per tier and generation, garbage, estimated monthly cost (no password). */
export async function reportCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseAt(args, 'report');
  if (args.positionals.length) throw new BackupError('USAGE', 'report takes no arguments: m365-backup report [--tenant <n>] [--json].');
  if (args.m365.user || args.m365.services) throw new BackupError('USAGE', 'report covers a whole repository: it takes no --user or --service.');
  const { repo } = await ctx.repositoryFor(args.m365.tenant);
  const prices = ctx.settings.storagePrices;
  if (args.m365.tenant) {
    const r = await tenantReport(repo, args.m365.tenant, SERVICES, { prices });
    if (ctx.options.json) {
      console.log(JSON.stringify(r, null, 2));
      return 0;
    }
    console.log(`Tenant ${r.tenant}: ${r.users} user(s), as of ${r.at}`);
    for (const [s, t] of Object.entries(r.services))
      console.log(`  ${s.padEnd(9)} ${String(t.users).padStart(6)} user(s) ${String(t.snapshots).padStart(7)} snapshot(s)  newest: ${t.items} item(s), ${formatBytes(t.bytes)}  stored: ${formatBytes(t.storedBytes)}`);
    printStorage(r.storage);
    return 0;
  }
  const s = await repositoryStorage(repo, { prices });
  if (ctx.options.json) console.log(JSON.stringify(s, null, 2));
  else printStorage(s);
  return 0;
}

function printStorage(s: RepositoryStorage): void {
  console.log('Storage (estimated cost per month at STORAGE_PRICES):');
  for (const [tier, u] of Object.entries(s.packs)) if (u.blobs) console.log(`  packs ${tier.padEnd(8)} ${String(u.blobs).padStart(7)} blob(s) ${formatBytes(u.bytes).padStart(10)}  ${u.monthlyCost.toFixed(4)}`);
  console.log(`  metadata (Hot) ${String(s.meta.blobs).padStart(7)} blob(s) ${formatBytes(s.meta.bytes).padStart(10)}  ${s.meta.monthlyCost.toFixed(4)}`);
  console.log(`  total per month: ${s.monthlyCost.toFixed(4)}`);
  const locked = s.generations.filter((g) => g.lockedUntil);
  if (locked.length) {
    console.log('Immutable generations:');
    for (const g of locked) console.log(`  locked until ${g.lockedUntil}: ${g.packs} pack(s), ${formatBytes(g.bytes)}`);
  }
  if (s.legalHolds) console.log(`${s.legalHolds} pack(s) under a legal hold.`);
  const g = s.garbage;
  console.log(`Garbage: ${g.deadPacks + g.unreferencedPacks} pack(s) prune would delete now (${formatBytes(g.reclaimBytes)}); ${g.deferredPacks} dead pack(s) waiting (${formatBytes(g.deferredBytes)}) until ${g.nextDeletableAt ?? '-'}; ${formatBytes(g.partlyUsedDeadBytes)} dead inside ${g.partlyUsedPacks} partly used pack(s).`);
  if (g.feeAvoided > 0) console.log(`  Waiting avoids ~${g.feeAvoided.toFixed(4)} of early-deletion fees.`);
}
