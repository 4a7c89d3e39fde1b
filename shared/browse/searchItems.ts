import { BackupError } from '../errors';
import { servicePartition, type DirectoryUser, type Service } from '../m365';
import { Catalog, type SnapshotRecord } from '../repo';
import { directoryUsers } from '../restore/m365/restoreTenant';
import type { BrowseScope } from './browseTarget';
import { historyOf, versionsOfSnapshot } from './sessionItems';
import { itemOf, type ItemRow } from './itemView';

export interface SearchQuery {
  /** Words of the name or subject (case-insensitive substring). */
  text?: string;
  /** Sender, or with `participants` anyone on the item (name or address substring). */
  sender?: string;
  participants?: boolean;
  /** Items dated in [from, to] (ISO date-times; a bare date means the whole day). */
  from?: Date;
  to?: Date;
  hasAttachments?: boolean;
}

export interface SearchHit extends ItemRow {
  user: string;
  service: Service;
  /** The newest snapshot holding this version of the item (what preview and restore read). */
  snapshot: number;
  time: string;
  /** False when the item is gone from the newest snapshot (deleted since, or changed: an old version). */
  inLatest: boolean;
}

export const SEARCH_LIMIT = 200;

/** Compiles the query once: a predicate over item rows. */
export function matcher(q: SearchQuery): (r: ItemRow) => boolean {
  const text = q.text?.toLowerCase();
  const who = q.sender?.toLowerCase();
  const from = q.from?.getTime();
  const to = q.to?.getTime();
  return (r) => {
    if (text && !r.name.toLowerCase().includes(text)) return false;
    if (who) {
      const pool = q.participants ? r.participants : r.sender ? [r.sender] : [];
      if (!pool.some((p) => p.toLowerCase().includes(who))) return false;
    }
    if (from !== undefined || to !== undefined) {
      const t = r.date ? Date.parse(r.date) : NaN;
      if (Number.isNaN(t) || (from !== undefined && t < from) || (to !== undefined && t > to)) return false;
    }
    if (q.hasAttachments !== undefined && (r.hasAttachments ?? false) !== q.hasAttachments) return false;
    return true;
  };
}

/** The newest of `snapshots` (oldest first; `seqs` their numbers) with from <= seq < to. */
function newestHolding(snapshots: SnapshotRecord[], seqs: number[], from: number, to: number): SnapshotRecord | undefined {
  let lo = 0;
  let hi = seqs.length; // first index with seq >= to
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (seqs[mid]! < to) lo = mid + 1;
    else hi = mid;
  }
  const s = snapshots[lo - 1];
  return s && s.seq >= from ? s : undefined;
}

/**
 * Search inside a browse session: one user (or every backed-up user of the tenant) and the given
 * services, in the newest snapshot or across every snapshot (`history`: each stored version once,
 * so a message deleted since is found). Newest first, at most SEARCH_LIMIT hits.
 */
export async function searchItems(scope: BrowseScope, o: { user?: string; services: readonly Service[]; history: boolean; query: SearchQuery }): Promise<{ hits: SearchHit[]; truncated: boolean; scanned: number }> {
  if (!Object.values(o.query).some((v) => v !== undefined)) throw new BackupError('USAGE', 'Say what to search for: text, sender, a date range or hasAttachments.');
  const match = matcher(o.query);
  const users: DirectoryUser[] = await directoryUsers(scope.repo, scope.tenantName, o.user);
  const hits: SearchHit[] = [];
  let scanned = 0;
  for (const user of users)
    for (const service of o.services) {
      const catalog = new Catalog(scope.repo, servicePartition(scope.tenantName, user.id, service));
      const snapshots = await catalog.snapshots();
      const latest = snapshots.at(-1);
      if (!latest) continue;
      // One pass over every stored version (history) or those of the newest snapshot; a version is
      // reported at the newest committed snapshot that holds it (none: only forgotten ones did, skip).
      const seqs = snapshots.map((s) => s.seq);
      const versions = o.history ? await historyOf(scope.repo, scope.key, scope.sessionId, catalog, latest.seq) : await versionsOfSnapshot(scope.repo, scope.key, scope.sessionId, catalog, latest);
      for (const v of versions) {
        const snapshot = newestHolding(snapshots, seqs, v.from, v.to);
        if (!snapshot) continue;
        scanned++;
        const row = itemOf(v.meta);
        if (row && match(row)) hits.push({ ...row, user: user.userPrincipalName, service, snapshot: snapshot.seq, time: snapshot.time, inLatest: v.to > latest.seq });
      }
    }
  hits.sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '') || a.id.localeCompare(b.id));
  return { hits: hits.slice(0, SEARCH_LIMIT), truncated: hits.length > SEARCH_LIMIT, scanned };
}
