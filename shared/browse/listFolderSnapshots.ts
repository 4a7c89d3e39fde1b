import { Catalog, listPartitionSnapshots, type Repository } from '../repo';

/** One snapshot of a folder partition, as `snapshots` lists it (no password needed). */
export interface FolderSnapshotRow {
  /** The partition's name; with `all`, its keyed token (names are sealed, and listing needs no password). */
  partition: string;
  snapshot: number;
  time: string;
  status: 'complete' | 'partial';
  items: number;
  bytes: number;
  changedItems: number;
  deletedItems: number;
  newBytes: number;
  failedItems: number;
}

export interface ListFolderSnapshotsInput {
  partition: string;
  /** Every partition of the repository instead of one. */
  all?: boolean;
}

/** The snapshots of one partition (or of all of them), oldest first. */
export async function listFolderSnapshots(repo: Repository, input: ListFolderSnapshotsInput): Promise<FolderSnapshotRow[]> {
  const list = input.all ? await listPartitionSnapshots(repo) : await new Catalog(repo, input.partition).snapshots();
  return list.map((s) => ({
    partition: input.all ? s.partition : input.partition,
    snapshot: s.seq,
    time: s.time,
    status: s.status,
    items: s.stats.items,
    bytes: s.stats.bytes,
    changedItems: s.stats.changedItems,
    deletedItems: s.stats.deletedItems,
    newBytes: s.stats.newBytes,
    failedItems: s.stats.failedItems,
  }));
}
