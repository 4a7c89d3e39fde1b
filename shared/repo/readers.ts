import { createHash } from 'node:crypto';
import { BackupError } from '../errors';
import { describeHolder, isLive, Lease, PRUNE_LEASE } from './lock';
import type { Repository } from './repository';

/** Reader leases are `locks/reader-<id>`: one per running restore or verify, any number at once (docs: section 8, rule 9). */
const READER_PREFIX = 'reader-';

const readerName = (owner: string) => `${READER_PREFIX}${createHash('sha256').update(owner).digest('hex').slice(0, 32)}`;

/**
 * Readers and prune exclude each other (docs/repository-format.md, "Locks"): a repacking prune
 * deletes packs a running restore may still have to read. A reader writes its own lease blob and
 * then reads the prune lease; prune writes its lease and then lists the reader leases. Storage is
 * strongly consistent, so whichever writes second sees the other and refuses with LOCKED (both may
 * refuse at once: each retries later; neither can miss the other). Shared like restic's
 * non-exclusive locks: restores and verifies never wait for each other.
 */
export const ReaderLease = {
  /**
   * Process-scoped (the CLI: renewed while the process lives, stale at once when it dies on this
   * host) unless `owner` is given: then run-scoped for `ttlMs` (the Function App's restore, whose
   * session cannot outlive that either), ended by `release` with the same owner.
   */
  async acquire(repo: Repository, o: { what: string; owner?: string; ttlMs?: number }): Promise<Lease> {
    const name = readerName(o.owner ?? `proc:${process.pid}:${Math.random().toString(36).slice(2)}`);
    const lease = await Lease.acquire(repo, name, o.owner === undefined ? { what: o.what } : { what: o.what, owner: o.owner, ttlMs: o.ttlMs, autoRenew: false });
    try {
      await refuseWhilePruning(repo, o.what);
    } catch (e) {
      await lease.release().catch(() => undefined);
      throw e;
    }
    return lease;
  },

  /** Ends a run-scoped reader lease (a no-op once it is gone or held by someone else). */
  release: (repo: Repository, owner: string): Promise<void> => Lease.release(repo, readerName(owner), owner),
};

/** Runs `fn` under a process-scoped reader lease. */
export async function whileReading<T>(repo: Repository, what: string, fn: () => Promise<T>): Promise<T> {
  const lease = await ReaderLease.acquire(repo, { what });
  try {
    return await fn();
  } finally {
    await lease.release().catch(() => undefined);
  }
}

/** LOCKED when a prune holds its lease (a reader checks after writing its own lease). */
async function refuseWhilePruning(repo: Repository, what: string): Promise<void> {
  const prune = await Lease.holder(repo, PRUNE_LEASE);
  if (prune && isLive(prune))
    throw new BackupError('LOCKED', `A prune of this repository is running (the lock is ${describeHolder(prune)}): ${what} now could read packs it deletes.`, {
      hint: `Start it again when the prune has finished; a prune left by a crash stops blocking at ${new Date(prune.expires).toISOString()}.`,
    });
}

/** LOCKED when a restore or verify holds a reader lease (prune checks after writing its own lease). */
export async function refuseWhileRead(repo: Repository): Promise<void> {
  const readers = await Lease.liveHolders(repo, READER_PREFIX);
  if (readers.length === 0) return;
  const latest = Math.max(...readers.map((r) => r.holder.expires));
  throw new BackupError('LOCKED', `${readers.length === 1 ? 'A restore or verify is' : `${readers.length} restores or verifies are`} reading this repository (${describeHolder(readers[0]!.holder)}): prune would delete packs they read.`, {
    hint: `Prune again when they have finished (the weekly prune tries at its next run); a reader left by a crash stops blocking at ${new Date(latest).toISOString()}.`,
  });
}
