import type { PrivateKey } from '../../../crypto';
import { BackupError } from '../../../errors';
import type { GraphConnection } from '../../../graph';
import { createRestoreSession, loadRestorePlan, openRestoreSession, readRestoreReport, saveRestoreParts, saveRestorePlan, saveUnitFailures, sweepRestoreArea, type Repository, type RestoreReport } from '../../../repo';
import { selectTenantSnapshots } from '../tenantPlan';
import type { RestoreJobRef } from '../restoreJob';
import { checkM365Restore, planM365Restore, writeM365Unit, type M365RestoreRequest } from './engine';
import { resolveTargetUser } from './permissions';
import type { ConflictMode } from './serviceWriter';
import type { M365WritePlan } from './writePlan';

/**
 * The Function App's restore into Microsoft 365, step by step (each one activity): begin (HTTP
 * starter: every check, then the session) -> plan (stored sealed; the parts named for the report)
 * -> archive state / rehydrate (the zip's steps read the same `packs` of the plan) -> units ->
 * end (session and plan deleted; the restore map and the report stay).
 */
export async function beginM365Restore(repo: Repository, key: PrivateKey, conn: GraphConnection, r: M365RestoreRequest): Promise<{ sessionId: string }> {
  await checkM365Restore(repo, conn, r);
  if ((await selectTenantSnapshots(repo, r)).length === 0)
    throw new BackupError('NOT_FOUND', `Nothing of tenant "${r.tenantName}" was backed up${r.pointInTime ? ` at or before ${r.pointInTime.toISOString()}` : ''}.`);
  await sweepRestoreArea(repo).catch(() => undefined);
  return { sessionId: await createRestoreSession(repo, key, { reading: true }) };
}

/** Plans once (`narrow`: a selection cut from the plan before it is stored) and stores the plan sealed; returns counts only. */
export async function planM365RestoreJob(repo: Repository, conn: GraphConnection, job: RestoreJobRef, r: M365RestoreRequest, narrow: (plan: M365WritePlan) => M365WritePlan = (p) => p): Promise<{ packs: number; parts: number; items: number }> {
  const key = await openRestoreSession(repo, job.sessionId);
  const target = r.destination.kind === 'user' ? await resolveTargetUser(conn, r.destination.user) : undefined;
  const plan = narrow(await planM365Restore(repo, key, r, target));
  await saveRestorePlan(repo, job.restoreId, plan);
  await saveRestoreParts(
    repo,
    job.restoreId,
    plan.parts.map((p) => ({ user: p.sourceUpn, target: p.targetUpn, service: p.service })),
  );
  return { packs: plan.packs.length, parts: plan.parts.length, items: plan.parts.reduce((n, p) => n + p.items.length, 0) };
}

export interface M365UnitCounts {
  part: number;
  unit: number;
  done: boolean;
  restored: number;
  skipped: number;
  renamed: number;
  failed: number;
}

/** One work unit (counts only out: the failures, with item names, are saved sealed for the report). */
export async function writeM365RestoreUnit(repo: Repository, conn: GraphConnection, job: RestoreJobRef, o: { part: number; unit: number; conflict: ConflictMode; toUser: boolean }): Promise<M365UnitCounts> {
  const key = await openRestoreSession(repo, job.sessionId);
  const plan = await loadRestorePlan<M365WritePlan>(repo, key, job.restoreId);
  const u = await writeM365Unit(repo, key, conn, plan, { ...o, restoreId: job.restoreId });
  return { part: u.part, unit: u.unit, done: u.done, restored: u.restored, skipped: u.skipped, renamed: u.renamed, failed: u.failed };
}

/**
 * A part (user x service) whose unit failed after its retries: recorded in the report as one
 * failed item named after its service, with the reason, so the restore goes on with the other
 * parts and ends `partial`. The row is the unit's own: a replay writes the same row again.
 */
export async function recordM365PartFailure(repo: Repository, job: RestoreJobRef, o: { part: number; unit: number; reason: string }): Promise<void> {
  const key = await openRestoreSession(repo, job.sessionId).catch(() => undefined);
  const plan = key ? await loadRestorePlan<M365WritePlan>(repo, key, job.restoreId).catch(() => undefined) : undefined;
  const part = plan?.parts[o.part];
  const item = part ? `${part.sourceUpn}/${part.service} (the rest of the part)` : `(part ${o.part})`;
  await saveUnitFailures(repo, job.restoreId, `p${String(o.part).padStart(6, '0')}.u${String(o.unit).padStart(6, '0')}`, [{ item, reason: o.reason }], { restored: 0, skipped: 0, renamed: 0, failed: 1 });
}

/** What GET /api/restores/{id} shows of a restore into Microsoft 365: per part (user x service) counts and the first failures. */
export async function m365RestoreReport(repo: Repository, restoreId: string): Promise<RestoreReport> {
  return readRestoreReport(repo, restoreId);
}
