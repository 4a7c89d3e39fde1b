import { Catalog, type Repository } from '../repo';
import { included, selectSnapshot } from '../restore/selectSnapshot';
import type { PasswordSource, SnapshotListing } from './snapshotListing';

/** A file, folder or link as a folder backup records it ("." is the backed-up folder itself). */
export interface FolderEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size?: number;
  mode?: number;
  /** Modification time in nanoseconds since the epoch, as a decimal string. */
  mtimeNs?: string;
  /** A link's target. */
  target?: string;
  [field: string]: unknown;
}

export interface ListFolderSnapshotInput {
  partition: string;
  /** "latest", a snapshot number or a date-time. */
  snapshot: string;
  /** Path prefixes to keep (all when absent). */
  include?: string[];
  password: PasswordSource;
}

/** The entries of a folder snapshot, sorted by path. */
export async function listFolderSnapshot(repo: Repository, input: ListFolderSnapshotInput): Promise<SnapshotListing<FolderEntry>> {
  const catalog = new Catalog(repo, input.partition);
  const snapshot = await selectSnapshot(catalog, input.snapshot);
  const key = await repo.unlock(await input.password());
  const entries: FolderEntry[] = [];
  for await (const v of catalog.versionsAt(snapshot.seq, await catalog.openRunKeys(key))) {
    const meta = v.meta as FolderEntry;
    if (included(String(meta.path), input.include)) entries.push(meta);
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { snapshot: snapshot.seq, time: snapshot.time, entries };
}
