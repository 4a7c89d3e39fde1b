import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  writeRestoreZip,
  type ArchiveState,
  type Repository,
} from '../../repo';
import { writeTenantPlan } from './restoreTenant';
import { planTenantRestore, selectTenantSnapshots, type TenantRestorePlan, type TenantSelection } from './tenantPlan';
import { zipFolder } from './zipToBlob';

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
  return { sessionId: await createRestoreSession(repo, key) };
}

/** Computes the plan once and stores it sealed; returns counts only. */
export async function planRestoreJob(repo: Repository, job: RestoreJobRef, selection: TenantSelection): Promise<{ packs: number; files: number }> {
  const key = await openRestoreSession(repo, job.sessionId);
  const plan = await planTenantRestore(repo, key, selection);
  await saveRestorePlan(repo, job.restoreId, plan);
  return { packs: plan.packs.length, files: plan.partitions.reduce((n, p) => n + p.files.length, 0) };
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
 * Restores the plan into a temporary folder (the same writer as the CLI, so names are the same),
 * zips it into the restore container and records the link's expiry. Returns counts and that time.
 */
export async function writeRestoreJobZip(repo: Repository, job: RestoreJobRef, linkMinutes: number): Promise<Omit<RestoreSummary, 'failures'> & { expires: string }> {
  const { key, plan } = await storedPlan(repo, job);
  const dir = await mkdtemp(join(tmpdir(), 'm365-restore-'));
  try {
    const r = await writeTenantPlan(repo, key, plan, dir);
    const zip = await zipFolder(dir);
    const expires = new Date(Date.now() + linkMinutes * 60_000);
    const summary: RestoreSummary = { files: r.files, bytes: r.bytes, zipBytes: 0, failureCount: r.failures.length, failures: r.failures.slice(0, MAX_LISTED_FAILURES) };
    const record = await writeRestoreZip(repo, job.restoreId, zip.stream, expires, (bytes) => ({ ...summary, zipBytes: bytes }));
    return { files: r.files, bytes: r.bytes, zipBytes: record.bytes, failureCount: r.failures.length, expires: expires.toISOString() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
