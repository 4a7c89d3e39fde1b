import { BackupError } from '../../shared/errors';
import { restoreFolder } from '../../shared/restore';
import { restoreTenantSnapshot } from '../../shared/restore/m365/restoreTenantSnapshot';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { formatBytes } from '../format';
import { ProgressBar } from '../progressBar';
import { refuseFolderOptions, servicesOf, snapshotSelector } from '../selection';

const GRAMMAR = 'm365-backup restore <snapshot|latest|date-time> <target-dir> [--tenant <n> [--user <upn>] [--service <s>] [--site <url|id>] [--team <name|id>] [--group <mail|id>]]';

/**
 * One grammar for folders and tenants: `restore <selector> <dir>`. Kept forms: `--at <time>` in
 * place of the selector, and, with --tenant, `restore <dir>` alone meaning the latest.
 */
function restoreArguments(args: ParsedArgs): { snapshot: string; target: string } {
  const [first, second, extra] = args.positionals;
  const oneArgument = first !== undefined && second === undefined;
  if (extra !== undefined || first === undefined || (oneArgument && !args.m365.at && !args.m365.tenant))
    throw new BackupError('USAGE', `restore takes a snapshot and a target folder: ${GRAMMAR}.`);
  return oneArgument ? { snapshot: snapshotSelector(undefined, args, 'latest')!, target: first } : { snapshot: snapshotSelector(first, args)!, target: second! };
}

export async function restoreCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseFolderOptions(args, 'restore');
  const { snapshot, target } = restoreArguments(args);
  return args.m365.tenant ? tenantRestore(ctx, args, snapshot, target) : folderRestore(ctx, args, snapshot, target);
}

async function folderRestore(ctx: CliContext, args: ParsedArgs, snapshot: string, target: string): Promise<number> {
  const repo = await ctx.repository();
  const key = await repo.unlock(await ctx.password('restore'));
  const bar = new ProgressBar(!ctx.options.quiet && !ctx.options.json && !!process.stderr.isTTY);
  const r = await restoreFolder(repo, key, {
    partition: ctx.options.partition,
    snapshot,
    target,
    include: args.include,
    force: args.force,
    onProgress: bar.update,
  }).finally(() => bar.done());
  if (ctx.options.json) console.log(JSON.stringify({ snapshot: r.snapshot.seq, files: r.files, dirs: r.dirs, links: r.links, bytes: r.bytes, failures: r.failures }));
  else {
    console.log(`Restored snapshot ${r.snapshot.seq} to ${target}: ${r.files} files (${formatBytes(r.bytes)}), ${r.dirs} folders, ${r.links} links.`);
    for (const f of r.failures) console.error(`failed: ${f.path}: ${f.reason}`);
  }
  return r.failures.length > 0 ? 3 : 0;
}

async function tenantRestore(ctx: CliContext, args: ParsedArgs, snapshot: string, target: string): Promise<number> {
  const t = await ctx.tenant(args.m365.tenant!);
  const r = await restoreTenantSnapshot(t.repo, {
    tenantName: t.record.name,
    services: servicesOf(args),
    user: args.m365.user,
    scopes: { site: args.m365.site, team: args.m365.team, group: args.m365.group },
    snapshot,
    target,
    password: () => ctx.password('restore'),
  });
  if (ctx.options.json) console.log(JSON.stringify(r));
  else {
    console.log(`Restored ${r.partitions.length} snapshot(s) of tenant "${t.record.name}" to ${target}: ${r.files} files, ${formatBytes(r.bytes)}.`);
    for (const p of r.partitions) console.log(`  ${p.userPrincipalName} ${p.service}: snapshot ${p.snapshot} of ${p.time}, ${p.items} items`);
    for (const f of r.failures) console.error(`failed: ${f.path}: ${f.reason}`);
  }
  return r.failures.length > 0 ? 3 : 0;
}
