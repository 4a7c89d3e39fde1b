import type { Service } from '../m365';
import { serviceSnapshot, versionsOf, type BrowseScope } from './browseTarget';
import { folderOf, itemOf, type FolderNode, type ItemRow } from './itemView';

export interface ItemListing {
  user: string;
  service: Service;
  snapshot: number;
  time: string;
  /** The snapshot timeline of this user's service (oldest first). */
  timeline: { snapshot: number; time: string; status: string; items: number }[];
  /** Every folder of the snapshot (mail folders, drive folders), with how many items each holds. */
  folders: FolderNode[];
  /** The items of `folder` (or those at the top when none is given), newest first, at most `limit`. */
  items: ItemRow[];
  /** Items of that folder beyond `limit`. */
  more: number;
}

export const LIST_LIMIT = 500;

/** One user's service at a point in time: its folder tree and the items of one folder. */
export async function listItems(scope: BrowseScope, o: { user: string; service: Service; snapshot: string; folder?: string; limit?: number }): Promise<ItemListing> {
  const s = await serviceSnapshot(scope, o.user, o.service, o.snapshot);
  const versions = await versionsOf(scope, s);
  const folders = new Map<string, FolderNode>();
  const rows: ItemRow[] = [];
  for (const v of versions) {
    const f = folderOf(v.meta);
    if (f) folders.set(f.id, { ...f, items: 0 });
    const item = itemOf(v.meta);
    if (item) rows.push(item);
  }
  for (const r of rows) {
    const f = r.folder !== undefined ? folders.get(r.folder) : undefined;
    if (f) f.items++;
  }
  // A folder whose parent is not a stored folder (the mailbox root) sits at the top.
  for (const f of folders.values()) if (f.parent !== undefined && !folders.has(f.parent)) delete f.parent;
  const inFolder = rows.filter((r) => (o.folder === undefined ? r.folder === undefined || !folders.has(r.folder) : r.folder === o.folder));
  inFolder.sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '') || a.name.localeCompare(b.name));
  const limit = Math.min(o.limit ?? LIST_LIMIT, LIST_LIMIT);
  return {
    user: s.user.userPrincipalName,
    service: o.service,
    snapshot: s.snapshot.seq,
    time: s.snapshot.time,
    timeline: s.snapshots.map((x) => ({ snapshot: x.seq, time: x.time, status: x.status, items: x.stats.items })),
    folders: [...folders.values()].sort((a, b) => a.name.localeCompare(b.name)),
    items: inFolder.slice(0, limit),
    more: Math.max(0, inFolder.length - limit),
  };
}
