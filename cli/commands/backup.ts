import { backupFolder } from '../../shared/backup';
import { backupTenant } from '../../shared/backup/m365/tenantBackup';
import { BackupError } from '../../shared/errors';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { formatBytes, formatDuration } from '../format';
import { ProgressBar } from '../progressBar';
import { backupServicesOf } from '../../shared/m365';
import { refuseAt, refuseFolderOptions } from '../selection';
import { printTenantReport } from '../tenantReport';

// Peak resident memory of this process, worker threads included (maxRSS is in KiB).
const peakRssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

export async function backupCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseFolderOptions(args, 'backup');
  refuseAt(args, 'backup');
  return args.m365.tenant ? tenantBackup(ctx, args) : folderBackup(ctx, args);
}

async function folderBackup(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [dir, extra] = args.positionals;
  if (!dir || extra) throw new BackupError('USAGE', 'backup takes one folder: m365-backup backup <dir>.');
  const repo = await ctx.repository();
  const bar = new ProgressBar(!ctx.options.quiet && !ctx.options.json && !!process.stderr.isTTY);
  const { snapshot, failures } = await backupFolder(repo, { partition: ctx.options.partition, source: dir, workers: args.workers, onProgress: bar.update }).finally(() =>
    bar.done(),
  );
  const s = snapshot.stats;
  if (ctx.options.json) console.log(JSON.stringify({ snapshot: snapshot.seq, time: snapshot.time, status: snapshot.status, ...s, peakRssMiB: peakRssMiB(), failures }));
  else {
    console.log(
      `Snapshot ${snapshot.seq} of partition "${ctx.options.partition}": ${s.items} items, ${formatBytes(s.bytes)}; ` +
        `${s.changedItems} new or changed, ${s.deletedItems} deleted; added ${s.newChunks} chunks, ${formatBytes(s.newBytes)} ` +
        `(${formatBytes(s.storedBytes)} stored) in ${formatDuration(s.durationMs)}.`,
    );
    for (const f of failures) console.error(`failed: ${f.path}: ${f.reason}`);
    if (failures.length) console.error(`${failures.length} item(s) failed; they will be retried by the next backup.`);
  }
  return failures.length > 0 ? 3 : 0;
}

async function tenantBackup(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.positionals.length) throw new BackupError('USAGE', 'backup --tenant takes no folder: m365-backup backup --tenant <n> [--user <upn>] [--service <s>].');
  const t = await ctx.tenant(args.m365.tenant!);
  const bar = new ProgressBar(!ctx.options.quiet && !ctx.options.json && !!process.stderr.isTTY);
  const report = await backupTenant(t.repo, {
    tenantName: t.record.name,
    conn: await t.graph(),
    services: backupServicesOf(t.record, args.m365.services),
    user: args.m365.user,
    workers: args.workers,
    userConcurrency: ctx.settings.userParallelism,
    probeDays: ctx.settings.directoryProbeDays,
    onProgress: (p) => bar.update({ phase: `users ${p.usersDone}/${p.usersTotal}`, itemsDone: p.items, bytesDone: p.bytes }),
  }).finally(() => bar.done());
  if (ctx.options.json) console.log(JSON.stringify({ ...report, peakRssMiB: peakRssMiB() }));
  else printTenantReport(report);
  return report.status === 'complete' ? 0 : 3;
}
