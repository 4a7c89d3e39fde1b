import type { PrivateKey } from '../../crypto';
import { BackupError } from '../../errors';
import {
  archiveState,
  createRestoreSession,
  deleteRestorePlan,
  deleteRestoreZip,
  endRestoreSession,
  loadRestorePlan,
  openRestoreSession,
  readRestoreZip,
  rehydratePacks,
  restoreZipUrl,
  saveRestorePlan,
  sweepRestoreArea,
  type ArchiveState,
  type Repository,
} from '../../repo';
import { planTenantRestore, selectTenantSnapshots, type TenantRestorePlan, type TenantSelection } from './tenantPlan';
import { finishZip, writeZipPart, zipParts, type ZipPartCounts } from './zipPart';

/**
 * The Function App's tenant restore, step by step (each step one activity): begin (HTTP starter,
 * with the password) -> plan (stored sealed) -> archive state / rehydrate -> write the zip -> end
 * (session and plan deleted) -> expire (the zip deleted when its link ends). Steps get references
 * only (tenant repository, restore id, session id) and read the one stored plan.
 */
export interface RestoreJobRef {
  restoreId: string;
  sessionId: string;
}

/** What GET /api/restores/{id} reports of a finished restore; kept sealed beside its zip. */
export interface RestoreSummary {
  files: number;
  bytes: number;
  zipBytes: number;
  failureCount: number;
  /** The first failures (paths name items: personal data, so they stay out of Durable history). */
  failures: { path: string; reason: string }[];
}

const MAX_LISTED_FAILURES = 100;

/** Checks there is something to restore, sweeps what earlier restores left, opens a session. */
export async function beginTenantRestore(repo: Repository, key: PrivateKey, selection: TenantSelection): Promise<{ sessionId: string }> {
  const selected = await selectTenantSnapshots(repo, selection);
  if (selected.length === 0)
    throw new BackupError('NOT_FOUND', `Nothing of tenant "${selection.tenantName}" was backed up${selection.pointInTime ? ` at or before ${selection.pointInTime.toISOString()}` : ''}.`);
  await sweepRestoreArea(repo).catch(() => undefined); // best effort: the lifecycle rule is the backstop
  return { sessionId: await createRestoreSession(repo, key, { reading: true }) };
}

/** Computes the plan once and stores it sealed; returns counts only (`parts`: the zip's parts, one per user). */
export async function planRestoreJob(repo: Repository, job: RestoreJobRef, selection: TenantSelection): Promise<{ packs: number; files: number; parts: number }> {
  const key = await openRestoreSession(repo, job.sessionId);
  const plan = await planTenantRestore(repo, key, selection);
  await saveRestorePlan(repo, job.restoreId, plan);
  return { packs: plan.packs.length, files: plan.partitions.reduce((n, p) => n + p.files.length, 0), parts: zipParts(plan).length };
}

async function storedPlan(repo: Repository, job: RestoreJobRef): Promise<{ key: PrivateKey; plan: TenantRestorePlan }> {
  const key = await openRestoreSession(repo, job.sessionId);
  return { key, plan: await loadRestorePlan<TenantRestorePlan>(repo, key, job.restoreId) };
}

export async function restoreJobArchiveState(repo: Repository, job: RestoreJobRef): Promise<ArchiveState> {
  return archiveState(repo, (await storedPlan(repo, job)).plan.packs);
}

export async function rehydrateRestoreJob(repo: Repository, job: RestoreJobRef, priority: 'High' | 'Standard'): Promise<{ requested: number }> {
  return { requested: await rehydratePacks(repo, (await storedPlan(repo, job)).plan.packs, priority) };
}

/**
 * Writes one part of the zip (one user's folders and files, streamed from the packs into staged
 * blocks of the zip blob); parts run in parallel, each a separate activity. Returns counts only.
 */
export async function writeRestoreJobPart(repo: Repository, job: RestoreJobRef, part: number): Promise<ZipPartCounts> {
  const { key, plan } = await storedPlan(repo, job);
  return writeZipPart(repo, key, plan, job.restoreId, part);
}

/** Joins the written parts into the zip (central directory, commit) and records the link's expiry. */
export async function finishRestoreJobZip(repo: Repository, job: RestoreJobRef, linkMinutes: number): Promise<Omit<RestoreSummary, 'failures'> & { expires: string }> {
  const { plan } = await storedPlan(repo, job);
  const expires = new Date(Date.now() + linkMinutes * 60_000);
  const r = await finishZip<RestoreSummary>(repo, plan, job.restoreId, expires, (s) => s, MAX_LISTED_FAILURES);
  return { files: r.files, bytes: r.contentBytes, zipBytes: r.bytes, failureCount: r.failureCount, expires: expires.toISOString() };
}

/** The whole zip in one call (every part in turn, then the join): no temporary copy of the tree. */
export async function writeRestoreJobZip(repo: Repository, job: RestoreJobRef, linkMinutes: number): Promise<Omit<RestoreSummary, 'failures'> & { expires: string }> {
  const { key, plan } = await storedPlan(repo, job);
  const parts = zipParts(plan).length;
  for (let part = 0; part < parts; part++) await writeZipPart(repo, key, plan, job.restoreId, part);
  return finishRestoreJobZip(repo, job, linkMinutes);
}

/** Ends the restore's session and deletes its plan (whatever happened to the restore). */
export async function endRestoreJob(repo: Repository, job: RestoreJobRef): Promise<void> {
  await endRestoreSession(repo, job.sessionId);
  await deleteRestorePlan(repo, job.restoreId);
}

/** Deletes the zip when its link expires (and anything else of the restore area whose time is up). */
export async function expireRestoreJob(repo: Repository, restoreId: string): Promise<void> {
  await deleteRestoreZip(repo, restoreId);
  await sweepRestoreArea(repo).catch(() => undefined);
}

/** The download of a finished restore: a read-only link ending when the zip is deleted; undefined once expired. */
export async function restoreJobDownload(repo: Repository, restoreId: string): Promise<(RestoreSummary & { downloadUrl: string; downloadExpires: string }) | undefined> {
  const zip = await readRestoreZip<RestoreSummary>(repo, restoreId);
  if (!zip) return undefined;
  return { ...zip.summary, downloadUrl: await restoreZipUrl(repo, restoreId, zip.expires), downloadExpires: zip.expires.toISOString() };
}

/** Sweeps the restore area of one tenant repository (the hourly timer). */
export async function sweepRestoreJobs(repo: Repository): Promise<{ sessions: number; plans: number; zips: number }> {
  return sweepRestoreArea(repo);
}
