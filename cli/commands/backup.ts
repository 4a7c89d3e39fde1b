import { m365Backup } from './m365';
import { backupFolder } from '../../shared/backup';
import { BackupError } from '../../shared/errors';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { formatBytes, formatDuration } from '../format';
import { ProgressBar } from '../progressBar';

export async function backupCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.m365.tenant) return m365Backup(ctx, args);
  const [dir, extra] = args.positionals;
  if (!dir || extra) throw new BackupError('USAGE', 'backup takes one folder: m365-backup backup <dir>.');
  const repo = await ctx.repository();
  const bar = new ProgressBar(!ctx.options.quiet && !ctx.options.json && !!process.stderr.isTTY);
  const { snapshot, failures } = await backupFolder(repo, { partition: ctx.options.partition, source: dir, workers: args.workers, onProgress: bar.update }).finally(() =>
    bar.done(),
  );
  const s = snapshot.stats;
  // Peak resident memory of this process, worker threads included (maxRSS is in KiB).
  const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  if (ctx.options.json) console.log(JSON.stringify({ snapshot: snapshot.seq, time: snapshot.time, status: snapshot.status, ...s, peakRssMiB, failures }));
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
