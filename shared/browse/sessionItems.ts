import type { PrivateKey } from '../crypto';
import { Catalog, type ItemVersion, type Repository, type SnapshotRecord } from '../repo';

/**
 * Decoded item versions of one snapshot of one partition, kept in this process for the browse
 * session that read them (listing a folder, then searching, then previewing must not decrypt
 * 10,000 rows three times). Bounded (least recently used out); a session's entries go when it
 * closes or after 15 minutes unused. Only a cache: another instance reads the rows again.
 */
const MAX_VERSIONS = 400_000;
/** Unused this long, an entry goes (a browse session ends after 15 idle minutes anyway). */
const IDLE_MS = 15 * 60_000;
const cache = new Map<string, { versions: ItemVersion[]; used: number }>();
let held = 0;

function dropIdle(now: number): void {
  for (const [k, v] of cache)
    if (now - v.used > IDLE_MS) {
      cache.delete(k);
      held -= v.versions.length;
    }
}

function remember(k: string, versions: ItemVersion[]): void {
  cache.set(k, { versions, used: Date.now() });
  held += versions.length;
  for (const [old, v] of cache) {
    if (held <= MAX_VERSIONS || old === k) break;
    cache.delete(old);
    held -= v.versions.length;
  }
}

/** The versions valid at `snapshot` (damaged rows skipped and counted in `damaged`). */
export async function versionsOfSnapshot(repo: Repository, key: PrivateKey, sessionId: string, catalog: Catalog, snapshot: SnapshotRecord): Promise<ItemVersion[]> {
  const k = `${sessionId}|${catalog.partitionName}|${snapshot.seq}`;
  dropIdle(Date.now());
  const hit = cache.get(k);
  if (hit) {
    cache.delete(k);
    hit.used = Date.now();
    cache.set(k, hit);
    return hit.versions;
  }
  const runKeys = await catalog.openRunKeys(key);
  const versions: ItemVersion[] = [];
  for await (const v of catalog.versionsAt(snapshot.seq, runKeys, () => undefined)) versions.push(v);
  remember(k, versions);
  return versions;
}

/** Forgets what a session read (on close). */
export function forgetSession(sessionId: string): void {
  for (const [k, v] of cache)
    if (k.startsWith(`${sessionId}|`)) {
      cache.delete(k);
      held -= v.versions.length;
    }
}
