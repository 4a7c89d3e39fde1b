import { BackupError } from '../errors';
import type { Catalog, SnapshotRecord } from '../repo';

/** Resolves "latest", a snapshot number, or an ISO date/time (the newest snapshot at or before it). */
export async function selectSnapshot(catalog: Catalog, spec: string): Promise<SnapshotRecord> {
  const all = await catalog.snapshots();
  if (all.length === 0) throw new BackupError('NOT_FOUND', `Partition "${catalog.partitionName}" has no snapshots yet.`);
  if (spec === 'latest') return all.at(-1)!;
  if (/^\d+$/.test(spec)) {
    const found = all.find((s) => s.seq === Number(spec));
    if (!found)
      throw new BackupError('NOT_FOUND', `Snapshot ${spec} does not exist in partition "${catalog.partitionName}" (it has ${all[0]!.seq}-${all.at(-1)!.seq}).`);
    return found;
  }
  const at = Date.parse(spec);
  if (Number.isNaN(at)) throw new BackupError('USAGE', `"${spec}" is not a snapshot: use "latest", a snapshot number or a date such as 2026-11-01T12:00:00Z.`);
  const found = [...all].reverse().find((s) => Date.parse(s.time) <= at);
  if (!found) throw new BackupError('NOT_FOUND', `Partition "${catalog.partitionName}" has no snapshot at or before ${spec}.`);
  return found;
}

/** Whether a path is selected by --include prefixes (a prefix selects itself and everything below it). */
export function included(path: string, includes: string[] | undefined): boolean {
  if (!includes || includes.length === 0) return true;
  return includes.some((inc) => {
    const p = inc.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    return p === '' || path === p || path.startsWith(p + '/');
  });
}
