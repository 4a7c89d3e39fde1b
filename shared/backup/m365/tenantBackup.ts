import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { isBackupError } from '../../errors';
import { forEachConcurrent } from '../../concurrency';
import { ContentSession, Lease, TENANT_RUN_LEASE, type ContentStats, type Repository } from '../../repo';
import type { GraphConnection } from '../../graph';
import { MemoryBudget } from '../../graph/gates';
import { addOutcome, emptyTotals, entryOffers, lanesOf, recordedInBatch, scopeOf, servicesOfEntry, type ItemFailure, type RunTotals, type Service, type ServiceOutcome } from '../../m365';
import { DEFAULT_USER_PARALLELISM } from '../../config/settings';
import { backupServiceUnit } from './serviceUnit';
import { hostname } from 'node:os';
import { listTenantUsers } from './tenantUsers';
import { markForProbe, recordRun, recordServiceOutcome, recordUnchangedOutcomes, type UnchangedEntry } from './runRecords';

export { tenantUsers, listTenantUsers } from './tenantUsers';
export { sourceFor } from './serviceUnit';

export interface TenantBackupOptions {
  tenantName: string;
  conn: GraphConnection;
  services: readonly Service[];
  /** One user only (UPN or id). */
  user?: string;
  /** Users backed up at once. */
  userConcurrency?: number;
  /** Probe a known user's drive and mailbox again after this many days (default 7; 0: every run). */
  probeDays?: number;
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

/** A service's line in the CLI report: the one outcome type plus what failed and whether it resynced. */
export type ServiceReport = ServiceOutcome & { failures: ItemFailure[]; resynced: number };

export interface UserReport {
  id: string;
  userPrincipalName: string;
  services: ServiceReport[];
  skipped: string[];
  /** A shared, room or equipment mailbox (mailboxSettings.userPurpose), backed up like a user's. */
  mailbox?: string;
}

export interface TenantBackupReport {
  tenant: string;
  /** The run's id: its report lines are in the repository's run log under it. */
  runId: string;
  status: 'complete' | 'partial';
  started: string;
  finished: string;
  users: UserReport[];
  totals: RunTotals;
  graph: { requests: number; throttled: number; retries: number };
  content: ContentStats;
}

/** Unchanged (user, service) outcomes per batch of the run log (a row holds at most 100). */
const UNCHANGED_PER_BATCH = 100;

/** Credentials refused (or the like): nothing else of the tenant will work either, so the run stops. */
const stopsTheRun = (e: unknown) => isBackupError(e, 'CREDENTIALS');

/**
 * Backs up a tenant from the CLI: takes the tenant-run lease (a second run of the same tenant is
 * refused with LOCKED, naming the holder), enumerates users (those without a mailbox or drive are
 * skipped for that service, with a note), then users through a sliding window of
 * `userConcurrency`, each user's Exchange services and OneDrive in two lanes side by side, each
 * service as one work unit into its own partition. One failing item or service never stops the rest.
 */
export async function backupTenant(repo: Repository, o: TenantBackupOptions): Promise<TenantBackupReport> {
  const started = new Date();
  const conn = o.conn;
  const lease = await Lease.acquire(repo, TENANT_RUN_LEASE, { what: `a backup run of tenant "${o.tenantName}"` });
  try {
    const users = await listTenantUsers(repo, conn, { tenantName: o.tenantName, user: o.user, probeDays: o.probeDays, services: o.services });
    const runId = `cli-${started.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
    const failedUnits = new Set<string>();
    const spoolDir = o.spoolDir ?? join(tmpdir(), `m365-backup-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(spoolDir, { recursive: true, mode: 0o700 });

    const session = await ContentSession.open(repo, { workers: o.workers });
    const reports: UserReport[] = [];
    // Unchanged (user, service) outcomes go to the run log in batch rows, as a Function App run's do.
    let unchanged: UnchangedEntry[] = [];
    let batches = 0;
    const flushUnchanged = async () => {
      if (unchanged.length === 0) return;
      const batch = unchanged;
      unchanged = [];
      await recordUnchangedOutcomes(repo, runId, `c${String(batches++).padStart(7, '0')}`, batch, hostname());
    };
    const memory = new MemoryBudget(o.memoryBudgetBytes ?? 32 * 1024 * 1024);
    const progress = { usersDone: 0, usersTotal: users.length, items: 0, bytes: 0 };
    try {
      // A sliding window: each of the `userConcurrency` workers takes the next user as soon as its last one is done.
      await forEachConcurrent(users, o.userConcurrency ?? DEFAULT_USER_PARALLELISM, async (u) => {
        const report: UserReport = { id: u.id, userPrincipalName: u.userPrincipalName, services: [], skipped: [], ...(u.mailbox ? { mailbox: u.mailbox } : {}) };
        reports.push(report);
        // A site, group or team has one service: the others are not "skipped" for it, nor its service for a user.
        const scope = scopeOf(u.id);
        const applicable = servicesOfEntry(u.id, o.services);
        const available = applicable.filter((service) => {
          if (entryOffers(u, service)) return true;
          if (scope) {
            report.skipped.push(u.notes?.[0] ?? `${service}: not available`);
            return false;
          }
          report.skipped.push(`${service}: ${u.notes?.find((n) => n.includes(service === 'onedrive' ? 'OneDrive' : 'mailbox')) ?? 'not available'}`);
          return false;
        });
        const done = new Map<Service, ServiceReport>();
        // Lanes side by side (Exchange in order: one mailbox budget; OneDrive on its own); the first run-stopping error wins.
        await Promise.all(
          lanesOf(available).map(async (lane) => {
            for (const service of lane) {
              let last = { items: 0, bytes: 0 };
              const r = await backupServiceUnit(repo, {
                tenant: o.tenantName,
                user: u,
                service,
                conn,
                writer: session.writer,
                spoolDir,
                memory,
                pageSize: o.pageSize,
                // Nothing changed: the cursors move, no snapshot is committed (as in the Function App).
                skipUnchanged: true,
                onProgress: (p) => {
                  progress.items += p.items - last.items;
                  progress.bytes += p.bytes - last.bytes;
                  last = p;
                  o.onProgress?.(progress);
                },
              });
              if (r.error && stopsTheRun(r.error)) throw r.error;
              if (r.error) failedUnits.add(u.id);
              done.set(service, { ...r.outcome, failures: r.failures, resynced: r.resynced });
              // The report lives in the repository as rows per user and service, like a Function App run's.
              if (recordedInBatch(r.outcome)) {
                unchanged.push({ userId: u.id, userPrincipalName: u.userPrincipalName, service, snapshot: r.outcome.snapshot, items: r.outcome.items });
                if (unchanged.length >= UNCHANGED_PER_BATCH) await flushUnchanged();
              } else await recordServiceOutcome(repo, runId, { userId: u.id, userPrincipalName: u.userPrincipalName, ...r.outcome, unit: 1, failures: r.failures, host: hostname() });
            }
          }),
        );
        for (const service of available) {
          const r = done.get(service);
          if (r) report.services.push(r);
        }
        progress.usersDone++;
        o.onProgress?.(progress);
      });
      await flushUnchanged();
      await session.finish();
    } finally {
      await session.close().catch(() => undefined);
      await rm(spoolDir, { recursive: true, force: true }).catch(() => undefined);
    }

    const all = reports.flatMap((r) => r.services);
    const report: TenantBackupReport = {
      tenant: o.tenantName,
      runId,
      status: all.every((s) => s.status === 'complete') ? 'complete' : 'partial',
      started: started.toISOString(),
      finished: new Date().toISOString(),
      users: reports.sort((a, b) => a.userPrincipalName.localeCompare(b.userPrincipalName)),
      totals: { ...all.reduce(addOutcome, emptyTotals()), users: reports.length },
      graph: { ...conn.gates.counters },
      content: session.stats,
    };
    await markForProbe(repo, o.tenantName, [...failedUnits]);
    await recordRun(repo, { runId, tenant: o.tenantName, status: report.status, started: report.started, finished: report.finished, totals: report.totals, users: reports.length, graph: report.graph });
    return report;
  } finally {
    await lease.release().catch(() => undefined);
  }
}
