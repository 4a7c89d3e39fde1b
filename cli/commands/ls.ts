import { BackupError } from '../../shared/errors';
import { listFolderSnapshot, listServiceSnapshot, type FolderEntry, type ServiceEntry } from '../../shared/browse';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { refuseFolderOptions, snapshotSelector } from '../selection';

export async function lsCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseFolderOptions(args, 'ls');
  const [spec, extra] = args.positionals;
  if (extra !== undefined) throw new BackupError('USAGE', 'ls takes one snapshot: m365-backup ls <snapshot|latest|date-time>.');
  return args.m365.tenant ? tenantLs(ctx, args, spec) : folderLs(ctx, args, spec);
}

function folderLine(e: FolderEntry): string {
  const kind = e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : '-';
  const mode = Number(e.mode ?? 0).toString(8).padStart(4, '0');
  const when = e.mtimeNs ? new Date(Number(BigInt(String(e.mtimeNs)) / 1_000_000n)).toISOString() : '';
  return `${kind} ${mode} ${String(e.size ?? 0).padStart(12)} ${when} ${e.path}${e.target !== undefined ? ` -> ${e.target}` : ''}`;
}

const serviceLine = (e: ServiceEntry) => `${String(e.type).padEnd(8)} ${String(e.size ?? '').padStart(10)}  ${e.name ?? e.subject ?? e.displayName ?? e.id}`;

async function folderLs(ctx: CliContext, args: ParsedArgs, spec: string | undefined): Promise<number> {
  const snapshot = snapshotSelector(spec, args);
  if (!snapshot) throw new BackupError('USAGE', 'ls takes one snapshot: m365-backup ls <snapshot|latest|date-time>.');
  const repo = await ctx.repository();
  const r = await listFolderSnapshot(repo, { partition: ctx.options.partition, snapshot, include: args.include, password: () => ctx.password('list a snapshot') });
  if (ctx.options.json) console.log(JSON.stringify(r, null, 2));
  else for (const e of r.entries) console.log(folderLine(e));
  return 0;
}

async function tenantLs(ctx: CliContext, args: ParsedArgs, spec: string | undefined): Promise<number> {
  const services = args.m365.services;
  if (!args.m365.user || services?.length !== 1) throw new BackupError('USAGE', 'ls for a tenant takes --user <upn>, one --service and an optional snapshot.');
  const snapshot = snapshotSelector(spec, args, 'latest')!;
  const t = await ctx.tenant(args.m365.tenant!);
  const r = await listServiceSnapshot(t.repo, { tenantName: t.record.name, user: args.m365.user, service: services[0]!, snapshot, password: () => ctx.password('list a snapshot') });
  if (ctx.options.json) console.log(JSON.stringify({ snapshot: r.snapshot, time: r.time, entries: r.entries }, null, 2));
  else for (const e of r.entries) console.log(serviceLine(e));
  return 0;
}
