import { listFolderSnapshots, listTenantSnapshots } from '../../shared/browse';
import { BackupError } from '../../shared/errors';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { formatBytes } from '../format';
import { refuseAt, refuseFolderOptions, servicesOf } from '../selection';

export async function snapshotsCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseFolderOptions(args, 'snapshots');
  refuseAt(args, 'snapshots');
  if (args.positionals.length) throw new BackupError('USAGE', 'snapshots takes no arguments: m365-backup snapshots [--all | --tenant <n>].');
  return args.m365.tenant ? tenantSnapshots(ctx, args) : folderSnapshots(ctx, args);
}

async function folderSnapshots(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const rows = await listFolderSnapshots(await ctx.repository(), { partition: ctx.options.partition, all: args.all });
  if (ctx.options.json) console.log(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) console.log(args.all ? 'No snapshots yet.' : `Partition "${ctx.options.partition}" has no snapshots yet.`);
  else
    for (const r of rows)
      console.log(
        `${args.all ? r.partition + '  ' : ''}${String(r.snapshot).padStart(5)}  ${r.time}  ${r.status.padEnd(8)}  ${String(r.items).padStart(8)} items  ${formatBytes(r.bytes).padStart(10)}  +${formatBytes(r.newBytes)}`,
      );
  return 0;
}

async function tenantSnapshots(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const t = await ctx.tenant(args.m365.tenant!);
  const rows = await listTenantSnapshots(t.repo, { tenantName: t.record.name, user: args.m365.user, services: servicesOf(args) });
  if (ctx.options.json) console.log(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) console.log(`Tenant "${t.record.name}" has no snapshots yet.`);
  else
    for (const r of rows)
      console.log(`${r.user.padEnd(36)} ${r.service.padEnd(9)} ${String(r.snapshot).padStart(4)}  ${r.time}  ${r.status.padEnd(8)} ${String(r.items).padStart(7)} items  +${r.changedItems} -${r.deletedItems}`);
  return 0;
}
