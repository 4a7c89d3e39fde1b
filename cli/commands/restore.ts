import { BackupError } from '../../shared/errors';
import { restoreFolder } from '../../shared/restore';
import { restoreTenantSnapshot } from '../../shared/restore/m365/restoreTenantSnapshot';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { formatBytes } from '../format';
import { ProgressBar } from '../progressBar';
import { refuseFolderOptions, servicesOf, snapshotSelector } from '../selection';
import { parseConflict, restoreIntoM365, type M365RestoreRequest } from '../../shared/restore/m365/write/engine';
import { parsePathPrefix } from '../../shared/restore/m365/write/writePlan';
import { writerFor } from '../../shared/restore/m365/write/writers';
import { SERVICES } from '../../shared/m365';

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
  const into = args.restoreInto;
  if (into.inPlace || into.toUser !== undefined) return intoM365(ctx, args);
  if (into.conflict !== undefined || into.path !== undefined) throw new BackupError('USAGE', '--conflict and --path go with a restore into Microsoft 365: add --in-place or --to-user <upn>.');
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

const INTO_GRAMMAR = 'm365-backup restore --tenant <n> [--user <upn> | --site <url|id>] [--service <s>]... [--at <time>] [--path <folder>] (--in-place | --to-user <upn>) [--conflict skip|rename|replace]';

/**
 * Restore back into Microsoft 365 (in place, or into another user under "Restored from <upn>
 * <date>"). Everything is checked before the first write; a rerun (after a crash or SIGKILL)
 * creates nothing twice (the restore map in the repository). Exit 3 when some items failed.
 */
async function intoM365(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const into = args.restoreInto;
  if (!args.m365.tenant) throw new BackupError('USAGE', `A restore into Microsoft 365 names its tenant: ${INTO_GRAMMAR}.`);
  if (into.inPlace && into.toUser !== undefined) throw new BackupError('USAGE', 'Give either --in-place or --to-user <upn>, not both.');
  if (into.toUser !== undefined && into.toUser.trim() === '') throw new BackupError('USAGE', '--to-user must name a user.');
  if (args.positionals.length > 0) throw new BackupError('USAGE', `A restore into Microsoft 365 takes no snapshot or folder argument (use --at <time>): ${INTO_GRAMMAR}.`);
  const conflict = parseConflict(into.conflict);
  parsePathPrefix(into.path); // a malformed path is reported before the password prompt
  const t = await ctx.tenant(args.m365.tenant);
  // Without --service: every service that can be written back (a service without a writer is refused by name when asked for).
  const services = args.m365.services ?? SERVICES.filter((s) => writerFor(s) !== undefined);
  const request: M365RestoreRequest = {
    tenantName: t.record.name,
    services,
    ...(args.m365.user ? { user: args.m365.user } : {}),
    // A site (its libraries), or a team / group: refused by name by the checks (folder only).
    ...(args.m365.site || args.m365.team || args.m365.group ? { scopes: { site: args.m365.site, team: args.m365.team, group: args.m365.group } } : {}),
    ...(args.m365.at ? { pointInTime: args.m365.at } : {}),
    destination: into.inPlace ? { kind: 'in-place' } : { kind: 'user', user: into.toUser! },
    conflict,
    ...(into.path !== undefined ? { path: into.path } : {}),
  };
  const conn = ctx.graph(await (await ctx.tenants()).restoreCredentials(t.record.name));
  const key = await t.repo.unlock(await ctx.password('restore'));
  const quiet = ctx.options.quiet || ctx.options.json;
  const parallelism = ctx.settings.restoreParallelism; // parts (user x service) at once (M365_RESTORE_PARALLELISM)
  const r = await restoreIntoM365(t.repo, key, conn, request, {
    ...(parallelism ? { parallelism } : {}),
    onUnit: (u, part) => {
      if (!quiet) console.error(`  ${part.sourceUpn} ${part.service}: unit ${u.unit + 1}: ${u.restored} restored, ${u.skipped} skipped, ${u.renamed} renamed, ${u.failed} failed`);
    },
  });
  if (ctx.options.json) console.log(JSON.stringify({ parts: r.parts, counts: { restored: r.counts.restored, skipped: r.counts.skipped, renamed: r.counts.renamed, failed: r.counts.failed, ...(r.counts.notes ? { notes: r.counts.notes } : {}) }, failures: r.failures }));
  else {
    const c = r.counts;
    console.log(`Restored into Microsoft 365 (${into.inPlace ? 'in place' : `to ${into.toUser}`}, conflict ${conflict}): ${c.restored} restored, ${c.skipped} skipped (already there), ${c.renamed} renamed, ${c.failed} failed.`);
    for (const p of r.parts) console.log(`  ${p.userPrincipalName} ${p.service} -> ${p.targetUserPrincipalName}: snapshot ${p.snapshot} of ${p.time}, ${p.items} items`);
    for (const n of r.counts.notes ?? []) console.log(`  note: ${n}`);
    for (const f of r.failures) console.error(`failed: ${f.path}: ${f.reason}`);
  }
  return r.failures.length > 0 ? 3 : 0;
}
