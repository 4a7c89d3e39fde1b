import { forEachConcurrent } from '../concurrency';
import { isBackupError } from '../errors';
import { packBlobName, packIndexBlobName } from './layout';
import type { Repository } from './repository';

const DAY_MS = 86_400_000;

/**
 * Immutability generations (docs/retention.md, "Immutable packs"). Every pack, pack-index and
 * catalog blob gets a version-level WORM lock (Locked mode: it can only be extended) that ends at
 * the end of its generation: `days` after now, rounded up to a multiple of `generationDays`, so every
 * blob written in one generation shares one expiry (Veeam's block generations). A backup that reuses
 * chunks of a pack whose lock ends before the new horizon (now + days) extends it to the current
 * generation's end, so a kept snapshot's data is always locked for at least `days`.
 */
export interface LockPolicy {
  days: number;
  /** Width of a generation (default 10 days). */
  generationDays?: number;
}

/** The end of the generation a blob written at `now` belongs to. */
export function generationEnd(policy: LockPolicy, now: number): number {
  const g = (policy.generationDays ?? 10) * DAY_MS;
  return Math.ceil((now + policy.days * DAY_MS) / g) * g;
}

/** Known lock ends of packs in this process (a pack is stat'ed at most once per process and generation). */
const knownLocks = new WeakMap<Repository, Map<string, number>>();

/**
 * What locking means at `now`, or undefined when the product sets no locks (no policy, or a store
 * without immutability): a blob whose lock ends before `horizon` (now + days) gets `until` (the
 * current generation's end). The one place every lock decision starts from.
 */
export function lockWindow(repo: Repository, now: number): { horizon: number; until: Date } | undefined {
  const p = repo.lockPolicy;
  if (!p || p.days <= 0 || !repo.blobs.capabilities.immutability) return undefined;
  return { horizon: now + p.days * DAY_MS, until: new Date(generationEnd(p, now)) };
}

/** Whether a blob whose lock ends at `immutableUntil` needs extending in this window. */
export const lockEndsBefore = (w: { horizon: number }, immutableUntil: Date | undefined) => (immutableUntil?.getTime() ?? 0) < w.horizon;

/** Sets a Locked policy until the window's end. */
export function setLock(repo: Repository, container: string, name: string, w: { until: Date }): Promise<void> {
  return repo.blobs.setImmutability(container, name, { until: w.until, mode: 'Locked' });
}

/** Locks one freshly written blob until its generation's end (no-op without a lock policy). */
export async function lockNewBlob(repo: Repository, container: string, name: string, now = Date.now()): Promise<void> {
  const w = lockWindow(repo, now);
  if (w) await setLock(repo, container, name, w);
}

/** Locks a committed pack and its pack-index blob (called once both exist). */
export async function lockNewPack(repo: Repository, packId: string, now = Date.now()): Promise<void> {
  const w = lockWindow(repo, now);
  if (!w) return;
  await setLock(repo, repo.layout.packContainer, packBlobName(packId), w);
  await setLock(repo, repo.layout.metaContainer, packIndexBlobName(packId), w);
  remember(repo, packId, w.until.getTime());
}

/** Extends one blob's lock to the current generation's end when it ends before the horizon. */
export async function extendBlobLock(repo: Repository, container: string, name: string, now = Date.now()): Promise<void> {
  const w = lockWindow(repo, now);
  if (!w) return;
  const info = await repo.blobs.stat(container, name);
  if (info && lockEndsBefore(w, info.immutableUntil)) await setLock(repo, container, name, w);
}

function remember(repo: Repository, packId: string, until: number): void {
  let m = knownLocks.get(repo);
  if (!m) knownLocks.set(repo, (m = new Map()));
  m.set(packId, until);
}

/**
 * Extends the locks of reused packs whose lock ends before the horizon (now + days) to the current
 * generation's end: the pack blob and its pack-index blob. A pack gone meanwhile (pruned) is skipped.
 */
export async function extendPackLocks(repo: Repository, packIds: Iterable<string>, now = Date.now()): Promise<number> {
  const w = lockWindow(repo, now);
  if (!w) return 0;
  const known = knownLocks.get(repo);
  const todo = [...packIds].filter((id) => (known?.get(id) ?? 0) < w.horizon);
  let extended = 0;
  await forEachConcurrent(todo, 8, async (id) => {
    const info = await repo.blobs.stat(repo.layout.packContainer, packBlobName(id));
    if (!info) return;
    if (!lockEndsBefore(w, info.immutableUntil)) return remember(repo, id, info.immutableUntil!.getTime());
    try {
      await setLock(repo, repo.layout.packContainer, packBlobName(id), w);
      await setLock(repo, repo.layout.metaContainer, packIndexBlobName(id), w);
    } catch (e) {
      if (!isBackupError(e, 'NOT_FOUND')) throw e;
      return;
    }
    remember(repo, id, w.until.getTime());
    extended++;
  });
  return extended;
}
