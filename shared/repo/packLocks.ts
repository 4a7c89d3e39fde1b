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

function active(repo: Repository): LockPolicy | undefined {
  const p = repo.lockPolicy;
  return p && p.days > 0 && repo.blobs.capabilities.immutability ? p : undefined;
}

/** Locks one freshly written blob until its generation's end (no-op without a lock policy). */
export async function lockNewBlob(repo: Repository, container: string, name: string, now = Date.now()): Promise<void> {
  const policy = active(repo);
  if (!policy) return;
  await repo.blobs.setImmutability(container, name, { until: new Date(generationEnd(policy, now)), mode: 'Locked' });
}

/** Locks a committed pack and its pack-index blob (called once both exist). */
export async function lockNewPack(repo: Repository, packId: string, now = Date.now()): Promise<void> {
  if (!active(repo)) return;
  await lockNewBlob(repo, repo.layout.packContainer, packBlobName(packId), now);
  await lockNewBlob(repo, repo.layout.metaContainer, packIndexBlobName(packId), now);
  remember(repo, packId, generationEnd(repo.lockPolicy!, now));
}

/** Extends one blob's lock to the current generation's end when it ends before the horizon. */
export async function extendBlobLock(repo: Repository, container: string, name: string, now = Date.now()): Promise<void> {
  const policy = active(repo);
  if (!policy) return;
  const info = await repo.blobs.stat(container, name);
  if (!info || (info.immutableUntil?.getTime() ?? 0) >= now + policy.days * DAY_MS) return;
  await repo.blobs.setImmutability(container, name, { until: new Date(generationEnd(policy, now)), mode: 'Locked' });
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
  const policy = active(repo);
  if (!policy) return 0;
  const horizon = now + policy.days * DAY_MS;
  const target = generationEnd(policy, now);
  const known = knownLocks.get(repo);
  const todo = [...packIds].filter((id) => (known?.get(id) ?? 0) < horizon);
  let extended = 0;
  await forEachConcurrent(todo, 8, async (id) => {
    const info = await repo.blobs.stat(repo.layout.packContainer, packBlobName(id));
    if (!info) return;
    const until = info.immutableUntil?.getTime() ?? 0;
    if (until >= horizon) return remember(repo, id, until);
    try {
      await repo.blobs.setImmutability(repo.layout.packContainer, packBlobName(id), { until: new Date(target), mode: 'Locked' });
      await repo.blobs.setImmutability(repo.layout.metaContainer, packIndexBlobName(id), { until: new Date(target), mode: 'Locked' });
    } catch (e) {
      if (!isBackupError(e, 'NOT_FOUND')) throw e;
      return;
    }
    remember(repo, id, target);
    extended++;
  });
  return extended;
}
