import type { PrivateKey } from '../crypto';
import { Catalog, type ItemVersion, type Repository, type SnapshotRecord } from '../repo';

/**
 * Decoded item versions of one partition (its whole stored history up to a snapshot), kept in this process for the browse
 * session that read them (listing a folder, then searching, then previewing must not decrypt
 * 10,000 rows three times). Bounded (least recently used out); a session's entries go when it
 * closes or after 15 minutes unused. Only a cache: another instance reads the rows again.
 */
const MAX_VERSIONS = 400_000;
/** Unused this long, an entry goes (a browse session ends after 15 idle minutes anyway). */
const IDLE_MS = 15 * 60_000;
const cache = new Map<string, { versions: ItemVersion[]; upTo: number; used: number }>();
let held = 0;

function dropIdle(now: number): void {
  for (const [k, v] of cache)
    if (now - v.used > IDLE_MS) {
      cache.delete(k);
      held -= v.versions.length;
    }
}

function remember(k: string, versions: ItemVersion[], upTo: number): void {
  cache.set(k, { versions, upTo, used: Date.now() });
  held += versions.length;
  for (const [old, v] of cache) {
    if (held <= MAX_VERSIONS || old === k) break;
    cache.delete(old);
    held -= v.versions.length;
  }
}

/**
 * Every stored version of the partition that snapshot `upTo` or an earlier one sees, decoded (damaged
 * rows skipped), read once per session in one pass (`Catalog.versionsUpTo`). A later snapshot than the
 * one read (a backup committed meanwhile) reads it again.
 */
export async function historyOf(repo: Repository, key: PrivateKey, sessionId: string, catalog: Catalog, upTo: number): Promise<ItemVersion[]> {
  const k = `${sessionId}|${catalog.partitionName}`;
  dropIdle(Date.now());
  const hit = cache.get(k);
  if (hit && hit.upTo >= upTo) {
    cache.delete(k);
    hit.used = Date.now();
    cache.set(k, hit);
    return hit.versions;
  }
  if (hit) {
    cache.delete(k);
    held -= hit.versions.length;
  }
  const runKeys = await catalog.openRunKeys(key);
  const versions = await catalog.versionsUpTo(upTo, runKeys, () => undefined);
  remember(k, versions, upTo);
  return versions;
}

/** The versions valid at `snapshot` (f <= seq < t), from the session's history of the partition. */
export async function versionsOfSnapshot(repo: Repository, key: PrivateKey, sessionId: string, catalog: Catalog, snapshot: SnapshotRecord): Promise<ItemVersion[]> {
  const seq = snapshot.seq;
  return (await historyOf(repo, key, sessionId, catalog, seq)).filter((v) => v.from <= seq && seq < v.to);
}

/** Forgets what a session read (on close). */
export function forgetSession(sessionId: string): void {
  for (const [k, v] of cache)
    if (k.startsWith(`${sessionId}|`)) {
      cache.delete(k);
      held -= v.versions.length;
    }
}
