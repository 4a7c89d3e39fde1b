import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { BackupError } from '../../errors';
import { forEachConcurrent } from '../../concurrency';
import { ChunkIndex, ContentWriter, type ContentStats, type Repository } from '../../repo';
import {
  CalendarSource,
  ContactsSource,
  MailSource,
  OneDriveSource,
  listUsers,
  probeServices,
  type GraphConnection,
  type Service,
  type ServiceSource,
  type SourceContext,
} from '../../graph';
import { MemoryBudget } from '../../graph/gates';
import { backupService, type ItemFailure } from './serviceBackup';
import { matchUsers, servicePartition, type DirectoryUser } from './partitions';
import { recordRun } from './runLog';

export interface TenantBackupOptions {
  tenantName: string;
  conn: GraphConnection;
  services: readonly Service[];
  /** One user only (UPN or id). */
  user?: string;
  /** Users backed up at once. */
  userConcurrency?: number;
  calendarWindowDays?: number;
  pageSize?: number;
  workers?: number;
  spoolDir?: string;
  /** Item content held in memory at once across all users (default 32 MiB); the rest spools to disk. */
  memoryBudgetBytes?: number;
  onProgress?: (p: TenantProgress) => void;
}

export interface TenantProgress {
  usersDone: number;
  usersTotal: number;
  items: number;
  bytes: number;
}

export interface ServiceReport {
  service: Service;
  snapshot: number;
  status: 'complete' | 'partial' | 'failed';
  items: number;
  fetched: number;
  fetchedBytes: number;
  removed: number;
  resynced: number;
  failures: ItemFailure[];
}

export interface UserReport {
  id: string;
  userPrincipalName: string;
  services: ServiceReport[];
  skipped: string[];
}

export interface TenantBackupReport {
  tenant: string;
  status: 'complete' | 'partial';
  started: string;
  finished: string;
  users: UserReport[];
  totals: { items: number; fetched: number; fetchedBytes: number; removed: number; failed: number };
  graph: { requests: number; throttled: number; retries: number };
  content: ContentStats;
}

export function sourceFor(service: Service, ctx: SourceContext): ServiceSource {
  switch (service) {
    case 'onedrive':
      return new OneDriveSource(ctx);
    case 'mail':
      return new MailSource(ctx);
    case 'calendar':
      return new CalendarSource(ctx);
    case 'contacts':
      return new ContactsSource(ctx);
  }
}

export interface TenantUser extends DirectoryUser {
  /** Why a service is not available (e.g. "no mailbox (404 MailboxNotEnabledForRESTAPI)"). */
  notes: string[];
}

/**
 * The tenant's users (or the one named by id or UPN) and the services each has: listed, then
 * probed in JSON batches. Used by the CLI run and by the Function App's first activity alike.
 */
export async function tenantUsers(conn: GraphConnection, tenantName: string, user?: string): Promise<TenantUser[]> {
  const users = matchUsers(await listUsers(conn), user);
  if (user && users.length === 0) throw new BackupError('NOT_FOUND', `Tenant "${tenantName}" has no user "${user}".`);
  const probes = await probeServices(conn, users);
  return users.map((u) => {
    const p = probes.get(u.id)!;
    const services: Service[] = [...(p.drive ? (['onedrive'] as const) : []), ...(p.mailbox ? (['mail', 'calendar', 'contacts'] as const) : [])];
    return { id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName, services, notes: p.notes };
  });
}

/**
 * Backs up a tenant: enumerates users (those without a mailbox or drive are skipped for that
 * service, with a note), then users in parallel (bounded), each service into its own partition.
 * One failing item or service never stops the rest; the report says what failed.
 */
export async function backupTenant(repo: Repository, o: TenantBackupOptions): Promise<TenantBackupReport> {
  const started = new Date();
  const conn = o.conn;
  const users = await tenantUsers(conn, o.tenantName, o.user);
  const spoolDir = o.spoolDir ?? join(tmpdir(), `m365-backup-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(spoolDir, { recursive: true, mode: 0o700 });

  const index = await ChunkIndex.open(repo);
  const writer = new ContentWriter(repo, index, { workers: o.workers });
  const reports: UserReport[] = [];
  const memory = new MemoryBudget(o.memoryBudgetBytes ?? 32 * 1024 * 1024);
  const progress = { usersDone: 0, usersTotal: users.length, items: 0, bytes: 0 };
  try {
    await forEachConcurrent(users, o.userConcurrency ?? 4, async (u) => {
      const report: UserReport = { id: u.id, userPrincipalName: u.userPrincipalName, services: [], skipped: [] };
      reports.push(report);
      const ctx: SourceContext = { conn, userId: u.id, spoolDir, calendarWindowDays: o.calendarWindowDays ?? 5 * 365, pageSize: o.pageSize ?? 100, memory };
      for (const service of o.services) {
        if (!u.services.includes(service)) {
          report.skipped.push(`${service}: ${u.notes.find((n) => n.includes(service === 'onedrive' ? 'OneDrive' : 'mailbox')) ?? 'not available'}`);
          continue;
        }
        let last = { items: 0, bytes: 0 };
        try {
          const r = await backupService(repo, {
            partitionName: servicePartition(o.tenantName, u.id, service),
            source: sourceFor(service, ctx),
            writer,
            label: { tenant: o.tenantName, userId: u.id, userPrincipalName: u.userPrincipalName, service },
            onProgress: (p) => {
              progress.items += p.items - last.items;
              progress.bytes += p.bytes - last.bytes;
              last = p;
              o.onProgress?.(progress);
            },
          });
          report.services.push({
            service,
            snapshot: r.snapshot.seq,
            status: r.snapshot.status,
            items: r.snapshot.stats.items,
            fetched: r.fetched,
            fetchedBytes: r.fetchedBytes,
            removed: r.removed,
            resynced: r.resynced.length,
            failures: r.failures,
          });
        } catch (e) {
          if (e instanceof BackupError && e.code === 'CREDENTIALS') throw e; // credentials refused: nothing else will work either
          report.services.push({ service, snapshot: 0, status: 'failed', items: 0, fetched: 0, fetchedBytes: 0, removed: 0, resynced: 0, failures: [{ id: `(${service})`, reason: String((e as Error)?.message ?? e) }] });
        }
      }
      progress.usersDone++;
      o.onProgress?.(progress);
    });
    await writer.flush();
  } finally {
    await writer.close().catch(() => undefined);
    await rm(spoolDir, { recursive: true, force: true }).catch(() => undefined);
  }
  await index.save();

  const all = reports.flatMap((r) => r.services);
  const report: TenantBackupReport = {
    tenant: o.tenantName,
    status: all.every((s) => s.status === 'complete') ? 'complete' : 'partial',
    started: started.toISOString(),
    finished: new Date().toISOString(),
    users: reports.sort((a, b) => a.userPrincipalName.localeCompare(b.userPrincipalName)),
    totals: {
      items: all.reduce((n, s) => n + s.items, 0),
      fetched: all.reduce((n, s) => n + s.fetched, 0),
      fetchedBytes: all.reduce((n, s) => n + s.fetchedBytes, 0),
      removed: all.reduce((n, s) => n + s.removed, 0),
      failed: all.reduce((n, s) => n + s.failures.length, 0),
    },
    graph: { ...conn.gates.counters },
    content: writer.stats,
  };
  await recordRun(repo, o.tenantName, users, report);
  return report;
}
