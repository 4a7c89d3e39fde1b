import { mkdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isBackupError } from '../../errors';
import type { GraphConnection } from '../../graph';
import { ContentSession, Lease, TENANT_RUN_LEASE, type Repository } from '../../repo';
import { entryOffers, recordedInBatch, type RunTotals, type Service, type ServiceOutcome } from '../../m365';
import { markFailedUnitsForProbe, recordRun, recordServiceOutcome, recordUnchangedOutcomes, RosterWriter, rosterUser } from './runRecords';
import { backupServiceUnit } from './serviceUnit';
import { tenantUsers } from './tenantUsers';

/**
 * The steps of a tenant run in the Function App, one per activity: begin (lease + roster), one work
 * unit per user and service, finish (directory + report + release). Each step finds what it needs in
 * storage by run id and index, so orchestration payloads stay small whatever the tenant's size.
 */

/** The tenant-run lease must outlive the longest work unit (units renew it when a quarter of it has passed). */
const leaseTtl = (unitSeconds: number) => (2 * unitSeconds + 15 * 60) * 1000;
const leaseOf = (repo: Repository, runId: string, unitSeconds: number) =>
  Lease.acquire(repo, TENANT_RUN_LEASE, { owner: runId, ttlMs: leaseTtl(unitSeconds), autoRenew: false, what: 'a backup run of this tenant' });

export async function beginTenantRun(
  repo: Repository,
  conn: GraphConnection,
  o: { tenant: string; runId: string; services: Service[]; user?: string; unitSeconds: number; probeDays?: number },
): Promise<{ users: number } | { refused: string }> {
  try {
    await leaseOf(repo, o.runId, o.unitSeconds);
  } catch (e) {
    if (isBackupError(e, 'LOCKED')) return { refused: e.message };
    throw e;
  }
  // The roster is written page by page as Graph lists the users; the directory is updated alongside.
  const roster = new RosterWriter(repo, o.runId);
  await tenantUsers(repo, conn, { tenantName: o.tenant, user: o.user, probeDays: o.probeDays, services: o.services, onUsers: (users) => roster.add(users) });
  return { users: await roster.finish() };
}

export async function rosterServices(repo: Repository, runId: string, index: number, wanted: Service[]): Promise<Service[]> {
  const u = await rosterUser(repo, runId, index);
  return wanted.filter((s) => entryOffers(u, s));
}

/** Failures a Durable retry may cure (storage or Graph hiccups); anything else is recorded and reported. */
const transient = (e: unknown) => !isBackupError(e) || ['STORAGE', 'STORAGE_UNREACHABLE', 'THROTTLED'].includes(e.code);

/** The unit's lease check: a request only when this process last renewed it a quarter of its TTL ago or more. */
const unitLease = (repo: Repository, runId: string, unitSeconds: number) =>
  Lease.acquireIfDue(repo, TENANT_RUN_LEASE, { owner: runId, ttlMs: leaseTtl(unitSeconds), what: 'a backup run of this tenant' });

/**
 * One work unit of the run: checks the tenant-run lease (a unit of a run that lost it records
 * LOCKED and does nothing; renewed only when a quarter of its TTL has passed since this process
 * last did), backs up one service of roster user #index within the unit budget, and writes its
 * record (counts and failure reasons) to the run log before returning counts only.
 * An unchanged (user, service) costs its delta round trip at Graph and at most two storage
 * requests: the state row, and the state row again only when the cursors moved (If-Match); the
 * roster page is cached per process. No blob write, no snapshot, and no record of its own: its
 * outcome (`unchanged`, naming the previous snapshot) goes into its range's batch row
 * (recordUnchangedRange, called by the orchestration once the range is done).
 */
export async function runServiceUnit(
  repo: Repository,
  conn: GraphConnection,
  o: { tenant: string; runId: string; index: number; service: Service; unit?: number; unitSeconds: number },
): Promise<ServiceOutcome & { more: boolean }> {
  const user = await rosterUser(repo, o.runId, o.index);
  const record = (outcome: ServiceOutcome, failures: { id: string; reason: string }[]) =>
    recordServiceOutcome(repo, o.runId, { userId: user.id, userPrincipalName: user.userPrincipalName, ...outcome, unit: o.unit ?? 1, failures, host: hostname() });
  try {
    await unitLease(repo, o.runId, o.unitSeconds);
  } catch (e) {
    if (!isBackupError(e, 'LOCKED')) throw e;
    const outcome: ServiceOutcome = { service: o.service, status: 'failed', snapshot: 0, items: 0, fetched: 0, fetchedBytes: 0, removed: 0, failed: 1 };
    await record(outcome, [{ id: `(${o.service})`, reason: `This run lost the tenant-run lease: ${e.message}` }]);
    return { ...outcome, more: false };
  }

  const spoolDir = join(tmpdir(), `m365-backup-${process.pid}-${randomBytes(6).toString('hex')}`);
  await mkdir(spoolDir, { recursive: true, mode: 0o700 });
  const session = await ContentSession.open(repo, { workers: 1 });
  try {
    const r = await backupServiceUnit(repo, {
      tenant: o.tenant,
      user,
      service: o.service,
      conn,
      writer: () => session.writer,
      spoolDir,
      deadline: Date.now() + o.unitSeconds * 1000,
      skipUnchanged: true,
    });
    // A dedup index that could not be saved (after retries) is reported with the unit: the content
    // is committed, but other workers may store its chunks again until a later save succeeds.
    const saveError = await session.finish().then(
      () => undefined,
      (e: unknown) => e,
    );
    if (saveError !== undefined) {
      r.failures.push({ id: '(dedup index)', reason: String((saveError as Error)?.message ?? saveError) });
      r.outcome = { ...r.outcome, failed: r.outcome.failed + 1, status: r.outcome.status === 'complete' ? 'partial' : r.outcome.status };
    }
    if (!recordedInBatch({ ...r.outcome, unit: o.unit ?? 1 })) await record(r.outcome, r.failures);
    if (r.error && transient(r.error)) throw r.error;
    await unitLease(repo, o.runId, o.unitSeconds).catch(() => undefined);
    return { ...r.outcome, more: r.more };
  } finally {
    await session.close().catch(() => undefined);
    await rm(spoolDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * The run-log record of a range's unchanged (user, service) outcomes (those the units did not
 * record, see recordedInBatch): one batch row keyed by the range's first roster index. Returns
 * the number of rows written.
 */
export async function recordUnchangedRange(
  repo: Repository,
  o: { runId: string; from: number; entries: { index: number; service: Service; snapshot: number; items: number }[] },
): Promise<number> {
  if (o.entries.length === 0) return 0;
  const entries = [];
  for (const e of o.entries) {
    const u = await rosterUser(repo, o.runId, e.index);
    entries.push({ userId: u.id, userPrincipalName: u.userPrincipalName, service: e.service, snapshot: e.snapshot, items: e.items });
  }
  return recordUnchangedOutcomes(repo, o.runId, `r${String(o.from).padStart(7, '0')}`, entries, hostname());
}

export async function finishTenantRun(repo: Repository, o: { tenant: string; runId: string; totals: RunTotals }): Promise<{ status: string }> {
  const status = o.totals.partial > 0 ? 'partial' : 'complete';
  // Users whose unit failed as a whole (e.g. mailbox or drive not found) are probed again next run.
  await markFailedUnitsForProbe(repo, o.tenant, o.runId);
  await recordRun(repo, { runId: o.runId, tenant: o.tenant, status, totals: o.totals, users: o.totals.users, finished: new Date().toISOString() });
  await Lease.release(repo, TENANT_RUN_LEASE, o.runId);
  return { status };
}
