import { m365Snapshots } from './m365';
import { Catalog, listPartitionSnapshots, type SnapshotRecord } from '../../shared/repo';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { formatBytes } from '../format';

export async function snapshotsCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.m365.tenant) return m365Snapshots(ctx, args);
  const repo = await ctx.repository();
  const catalog = new Catalog(repo, ctx.options.partition);
  const list: SnapshotRecord[] = args.all ? await listPartitionSnapshots(repo) : await catalog.snapshots();
  const rows = list.map((s) => ({
    partition: args.all ? s.partition : ctx.options.partition,
    snapshot: s.seq,
    time: s.time,
    status: s.status,
    items: s.stats.items,
    bytes: s.stats.bytes,
    changedItems: s.stats.changedItems,
    deletedItems: s.stats.deletedItems,
    newBytes: s.stats.newBytes,
    failedItems: s.stats.failedItems,
  }));
  if (ctx.options.json) console.log(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) console.log(args.all ? 'No snapshots yet.' : `Partition "${ctx.options.partition}" has no snapshots yet.`);
  else
    for (const r of rows)
      console.log(
        `${args.all ? r.partition + '  ' : ''}${String(r.snapshot).padStart(5)}  ${r.time}  ${r.status.padEnd(8)}  ${String(r.items).padStart(8)} items  ${formatBytes(r.bytes).padStart(10)}  +${formatBytes(r.newBytes)}`,
      );
  return 0;
}
