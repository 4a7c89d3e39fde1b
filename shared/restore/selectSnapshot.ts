import { BackupError } from '../errors';
import type { Catalog, SnapshotRecord } from '../repo';

/** What a user names a snapshot by: the latest, its number in its partition, or a point in time. */
export type SnapshotSelector = { kind: 'latest' } | { kind: 'number'; seq: number } | { kind: 'time'; at: Date };

/** Parses "latest", a snapshot number, or an ISO date/time. */
export function parseSnapshotSelector(spec: string): SnapshotSelector {
  if (spec === 'latest') return { kind: 'latest' };
  if (/^\d+$/.test(spec)) return { kind: 'number', seq: Number(spec) };
  const at = Date.parse(spec);
  if (Number.isNaN(at)) throw new BackupError('USAGE', `"${spec}" is not a snapshot: use "latest", a snapshot number or a date such as 2026-11-01T12:00:00Z.`);
  return { kind: 'time', at: new Date(at) };
}

/** The newest snapshot at or before a point in time (the newest of all without one); `snapshots` oldest first. */
export function latestAtOrBefore(snapshots: SnapshotRecord[], at?: Date): SnapshotRecord | undefined {
  if (!at) return snapshots.at(-1);
  for (let i = snapshots.length - 1; i >= 0; i--) if (Date.parse(snapshots[i]!.time) <= at.getTime()) return snapshots[i];
  return undefined;
}

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The snapshot a selector names among one partition's snapshots (oldest first), or a NOT_FOUND that
 * names the partition as `what` says it (`partition "default"`, `the mail of ann@contoso.com`).
 */
export function pickSnapshot(all: SnapshotRecord[], selector: SnapshotSelector, what: string): SnapshotRecord {
  if (all.length === 0) throw new BackupError('NOT_FOUND', `${capitalised(what)} has no snapshots yet.`);
  if (selector.kind === 'number') {
    const found = all.find((s) => s.seq === selector.seq);
    if (!found) throw new BackupError('NOT_FOUND', `Snapshot ${selector.seq} does not exist in ${what} (it has ${all[0]!.seq}-${all.at(-1)!.seq}).`);
    return found;
  }
  const at = selector.kind === 'time' ? selector.at : undefined;
  const found = latestAtOrBefore(all, at);
  if (!found) throw new BackupError('NOT_FOUND', `${capitalised(what)} has no snapshot at or before ${at!.toISOString()}.`);
  return found;
}

/** Resolves "latest", a snapshot number, or an ISO date/time (the newest snapshot at or before it). */
export async function selectSnapshot(catalog: Catalog, spec: string | SnapshotSelector, what = `partition "${catalog.partitionName}"`): Promise<SnapshotRecord> {
  const selector = typeof spec === 'string' ? parseSnapshotSelector(spec) : spec;
  return pickSnapshot(await catalog.snapshots(), selector, what);
}

/** Whether a path is selected by --include prefixes (a prefix selects itself and everything below it). */
export function included(path: string, includes: string[] | undefined): boolean {
  if (!includes || includes.length === 0) return true;
  return includes.some((inc) => {
    const p = inc.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    return p === '' || path === p || path.startsWith(p + '/');
  });
}
