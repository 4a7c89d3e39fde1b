import { BackupError } from '../errors';
import { Catalog, type SnapshotRecord } from './catalog';
import { padSeq } from './layout';
import { Lease } from './lock';
import type { Repository } from './repository';

/**
 * Forgets snapshots of one partition (docs/repository-format.md section 11 rule 5): deletes their
 * snapshot rows, so they stop being committed. Item versions, chunks and packs are left to prune.
 * Holds the partition's writer lock, so a backup of the partition is not committing meanwhile.
 * The newest snapshot is never forgotten (the next incremental compares against its versions and its
 * sequence number must never be reused). Idempotent: a row already gone counts as forgotten.
 */
export async function forgetSnapshots(repo: Repository, partitionName: string, seqs: readonly number[]): Promise<{ forgotten: number[] }> {
  const catalog = new Catalog(repo, partitionName);
  const lock = await Lease.acquire(repo, catalog.partition, { what: 'a backup of this partition' });
  try {
    const snapshots = await catalog.snapshots();
    const newest = snapshots.at(-1)?.seq;
    if (newest !== undefined && seqs.includes(newest))
      throw new BackupError('USAGE', `Snapshot ${newest} is the newest of its partition and cannot be forgotten.`);
    const known = new Set(snapshots.map((s) => s.seq));
    const forgotten: number[] = [];
    for (const seq of seqs) {
      if (!known.has(seq)) continue;
      await repo.tables.delete(repo.layout.snapshotTable, catalog.partition, padSeq(seq));
      forgotten.push(seq);
    }
    return { forgotten };
  } finally {
    await lock.release().catch(() => undefined);
  }
}

/** The committed snapshots of a partition (what forget decides on), oldest first. */
export function partitionSnapshots(repo: Repository, partitionName: string): Promise<SnapshotRecord[]> {
  return new Catalog(repo, partitionName).snapshots();
}
