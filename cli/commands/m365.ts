import { BackupError } from '../../shared/errors';
import { SERVICES, type Service } from '../../shared/graph';
import { backupTenant, type TenantBackupReport } from '../../shared/backup/m365/tenantBackup';
import { servicePartition } from '../../shared/m365';
import { Catalog } from '../../shared/repo';
import { readDirectory, restoreTenant, selectUsers, snapshotAt } from '../../shared/restore/m365/restoreTenant';
import { selectSnapshot } from '../../shared/restore';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { formatBytes, formatDuration } from '../format';
import { ProgressBar } from '../progressBar';

const servicesOf = (args: ParsedArgs): Service[] => args.m365.services ?? [...SERVICES];

export function printReport(r: TenantBackupReport, log: (s: string) => void = console.log): void {
  const secs = (Date.parse(r.finished) - Date.parse(r.started)) / 1000;
  log(`Tenant "${r.tenant}": ${r.status}, ${r.users.length} user(s) in ${formatDuration(secs * 1000)}.`);
  for (const u of r.users) {
    const parts = u.services.map((s) => `${s.service} #${s.snapshot} ${s.status === 'complete' ? '' : s.status + ' '}${s.items} items (+${s.fetched} ${formatBytes(s.fetchedBytes)}, -${s.removed})${s.resynced ? ' resynced' : ''}`);
    log(`  ${u.userPrincipalName}: ${parts.join('; ')}${u.skipped.length ? `; skipped ${u.skipped.join(', ')}` : ''}`);
  }
  log(
    `  Fetched ${r.totals.fetched} items (${formatBytes(r.totals.fetchedBytes)}), ${r.totals.removed} removed; stored ${r.content.newChunks} new chunks (${formatBytes(r.content.storedBytes)}); Graph: ${r.graph.requests} requests, ${r.graph.throttled} throttled, ${r.graph.retries} retries.`,
  );
  for (const u of r.users) for (const s of u.services) for (const f of s.failures) console.error(`failed: ${u.userPrincipalName} ${s.service} ${f.id}: ${f.reason}`);
  if (r.totals.failed) console.error(`${r.totals.failed} item(s) failed; they will be retried by the next backup.`);
}

export async function m365Backup(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const t = await ctx.tenant(args.m365.tenant!);
  const bar = new ProgressBar(!ctx.options.quiet && !ctx.options.json && !!process.stderr.isTTY);
  const report = await backupTenant(t.repo, {
    tenantName: t.record.name,
    conn: await t.graph(),
    services: servicesOf(args),
    user: args.m365.user,
    workers: args.workers,
    calendarWindowDays: ctx.settings.calendarWindowDays,
    userConcurrency: ctx.settings.userParallelism,
    onProgress: (p) => bar.update({ phase: `users ${p.usersDone}/${p.usersTotal}`, itemsDone: p.items, bytesDone: p.bytes }),
  }).finally(() => bar.done());
  if (ctx.options.json) console.log(JSON.stringify({ ...report, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
  else printReport(report);
  return report.status === 'complete' ? 0 : 3;
}

export async function m365Snapshots(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const t = await ctx.tenant(args.m365.tenant!);
  const users = selectUsers(await readDirectory(t.repo, t.record.name), t.record.name, args.m365.user);
  const rows: Record<string, unknown>[] = [];
  for (const u of users)
    for (const service of servicesOf(args))
      for (const s of await new Catalog(t.repo, servicePartition(t.record.name, u.id, service)).snapshots())
        rows.push({ user: u.userPrincipalName, service, snapshot: s.seq, time: s.time, status: s.status, items: s.stats.items, changedItems: s.stats.changedItems, deletedItems: s.stats.deletedItems, failedItems: s.stats.failedItems });
  if (ctx.options.json) console.log(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) console.log(`Tenant "${t.record.name}" has no snapshots yet.`);
  else for (const r of rows) console.log(`${String(r.user).padEnd(36)} ${String(r.service).padEnd(9)} ${String(r.snapshot).padStart(4)}  ${r.time}  ${String(r.status).padEnd(8)} ${String(r.items).padStart(7)} items  +${r.changedItems} -${r.deletedItems}`);
  return 0;
}

export async function m365Ls(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [spec = 'latest', extra] = args.positionals;
  const services = args.m365.services;
  if (extra || !args.m365.user || services?.length !== 1) throw new BackupError('USAGE', 'ls for a tenant takes --user <upn>, one --service and an optional snapshot.');
  const t = await ctx.tenant(args.m365.tenant!);
  const [u] = selectUsers(await readDirectory(t.repo, t.record.name), t.record.name, args.m365.user);
  const catalog = new Catalog(t.repo, servicePartition(t.record.name, u!.id, services[0]!));
  const snapshot = args.m365.at ? snapshotAt(await catalog.snapshots(), args.m365.at) : await selectSnapshot(catalog, spec);
  if (!snapshot) throw new BackupError('NOT_FOUND', `No snapshot of ${u!.userPrincipalName} ${services[0]} exists at or before ${args.m365.at!.toISOString()}.`);
  const key = await t.repo.unlock(await ctx.password('list a snapshot'));
  const entries: Record<string, unknown>[] = [];
  for await (const v of catalog.versionsAt(snapshot.seq, await catalog.openRunKeys(key))) entries.push(v.meta);
  if (ctx.options.json) console.log(JSON.stringify({ snapshot: snapshot.seq, time: snapshot.time, entries }, null, 2));
  else for (const e of entries) console.log(`${String(e.type).padEnd(8)} ${String(e.size ?? '').padStart(10)}  ${e.name ?? e.subject ?? e.displayName ?? e.id}`);
  return 0;
}

export async function m365Restore(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [target, extra] = args.positionals;
  if (!target || extra) throw new BackupError('USAGE', 'restore for a tenant takes one target folder: m365-backup restore --tenant <n> [--user <upn>] [--service <s>] [--at <time>] <target-dir>.');
  const t = await ctx.tenant(args.m365.tenant!);
  const key = await t.repo.unlock(await ctx.password('restore'));
  const r = await restoreTenant(t.repo, key, { tenantName: t.record.name, services: servicesOf(args), user: args.m365.user, pointInTime: args.m365.at, target });
  if (ctx.options.json) console.log(JSON.stringify(r));
  else {
    console.log(`Restored ${r.partitions.length} snapshot(s) of tenant "${t.record.name}" to ${target}: ${r.files} files, ${formatBytes(r.bytes)}.`);
    for (const p of r.partitions) console.log(`  ${p.userPrincipalName} ${p.service}: snapshot ${p.snapshot} of ${p.time}, ${p.items} items`);
    for (const f of r.failures) console.error(`failed: ${f.path}: ${f.reason}`);
  }
  if (r.partitions.length === 0) throw new BackupError('NOT_FOUND', `Nothing of tenant "${t.record.name}" was backed up${args.m365.at ? ` at or before ${args.m365.at.toISOString()}` : ''}.`);
  return r.failures.length > 0 ? 3 : 0;
}
