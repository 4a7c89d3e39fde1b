import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { isBackupError } from '../../errors';
import { Catalog, PartitionLock, type ContentWriter, type CurrentVersion, type Repository, type SnapshotRecord, type SnapshotStats } from '../../repo';
import { itemRowKey } from '../../repo/itemRow';
import type { ItemContent, ServiceSource, SourceChange } from '../../graph';
import { Semaphore, sleep } from '../../graph/gates';
import { RowBatcher } from '../../repo/rowBatcher';
import type { ItemFailure } from '../../m365';

export interface ServiceBackupOptions {
  partitionName: string;
  source: ServiceSource;
  /** Shared by every service of the run: chunks are repository-wide. A function: made only when content must be written. */
  writer: ContentWriter | (() => ContentWriter);
  /** Names of what this partition is (tenant, user, service), sealed into the snapshot. */
  label: { tenant: string; userId: string; userPrincipalName: string; service: string };
  /** Items fetched at once (their content held until it is durable). */
  contentConcurrency?: number;
  onProgress?: (p: { items: number; bytes: number }) => void;
  /**
   * Work-unit budget (epoch ms). Past it, the run stops at the next scope boundary, or page boundary
   * of an incremental feed, commits what it did (a consistent snapshot: scopes not reached keep their
   * versions) and reports `more`; the next run continues from the saved cursors.
   */
  deadline?: number;
  /**
   * Look before locking: read the state row and run the delta first, and when nothing changed
   * only move the cursors (If-Match on the state row) and commit no snapshot. The Function App's
   * work units use it; without it every run commits a snapshot.
   */
  skipUnchanged?: boolean;
  /** An unchanged unit writes new cursors only when the stored ones are older than this (default CURSOR_REFRESH_MS; 0: always). */
  cursorRefreshMs?: number;
}

export type { ItemFailure } from '../../m365';

export interface ServiceBackupResult {
  /** The snapshot committed; undefined for an unchanged unit (`unchanged` names the previous one). */
  snapshot?: SnapshotRecord;
  unchanged?: { seq: number; items: number };
  failures: ItemFailure[];
  /** Items whose content was fetched in this run (new or changed). */
  fetched: number;
  fetchedBytes: number;
  removed: number;
  /** Versions whose content was reused without a download (rename, move). */
  reused: number;
  resynced: string[];
  /** Stopped at the work-unit budget: run again to continue. */
  more: boolean;
}

/** The partition's state row (docs/repository-format.md, section 6, `state`). */
interface SourceState {
  cursors: Record<string, string>;
  /** SHA-256 (hex) of each fully listed scope that has no cursor (folder lists): an unchanged listing is recognised without reading item rows. */
  listed?: Record<string, string>;
  /** The last committed snapshot of the partition and its item count: what an unchanged unit reports. */
  snapshot?: number;
  items?: number;
  /** When the cursors were last written (a committed snapshot, or an unchanged unit whose stored cursors were older than the refresh period). */
  checked?: string;
}

/**
 * How long an unchanged unit keeps the stored cursors instead of writing the new ones (3 days):
 * below the shortest delta-token lifetime Graph documents (7 days for directory objects; Outlook's
 * tokens live in a per-mailbox cache of recent tokens, so a token is not left unused for weeks).
 */
export const CURSOR_REFRESH_MS = 3 * 24 * 3600_000;

/** Entries of a listing digest kept at most (a bigger listing keeps no digest: its next run takes the full path). */
const LISTING_DIGEST_MAX = 10_000;

/** Accumulates `<id> NUL <version>` of the items of scopes without a cursor, for the `listed` digests. */
class ListingDigests {
  private readonly lists = new Map<string, string[] | null>();
  constructor(private readonly cursors: Record<string, string>) {}
  add(scope: string, id: string, version: string): void {
    if (this.cursors[scope]) return;
    const l = this.lists.get(scope);
    if (l === null) return;
    if (!l) this.lists.set(scope, [`${id}\0${version}`]);
    else if (l.length >= LISTING_DIGEST_MAX) this.lists.set(scope, null);
    else l.push(`${id}\0${version}`);
  }
  /** SHA-256 over the sorted entries joined by LF (empty listing: SHA-256 of nothing); undefined when too big. */
  digest(scope: string): string | undefined {
    const l = this.lists.get(scope);
    if (l === null) return undefined;
    return createHash('sha256').update((l ?? []).slice().sort().join('\n')).digest('hex');
  }
}

type Prefetched = { etag: string; buffered: SourceChange[]; rest: AsyncIterator<SourceChange> };

/** The events already read, then the rest of the feed (closed when the consumer stops early). */
async function* replay(p: Prefetched): AsyncGenerator<SourceChange> {
  try {
    yield* p.buffered;
    for (;;) {
      const n = await p.rest.next();
      if (n.done) return;
      yield n.value;
    }
  } finally {
    await p.rest.return?.();
  }
}

/**
 * Runs the delta without the lock and without reading item rows. Unchanged: every scope with a
 * cursor returned only pages and its next delta link, and every listed scope hashed as before.
 * Then the new cursors are written with If-Match on the state row read first (a concurrent writer
 * wins and this unit's cursors are dropped: theirs cover a committed snapshot). The first real
 * change hands the events read so far to the full path.
 */
async function probeUnchanged(catalog: Catalog, o: ServiceBackupOptions, row: { value: SourceState; etag: string }): Promise<{ unchanged: true } | Prefetched> {
  const state = row.value;
  const cursors = state.cursors ?? {};
  const digests = new ListingDigests(cursors);
  const completed: Record<string, string> = {};
  const buffered: SourceChange[] = [];
  const rest = o.source.changes(cursors)[Symbol.asyncIterator]();
  for (;;) {
    const n = await rest.next();
    if (n.done) break;
    const c = n.value;
    buffered.push(c);
    let changed: boolean;
    switch (c.kind) {
      case 'item':
        changed = Boolean(cursors[c.scope]) || state.listed?.[c.scope] === undefined;
        if (!changed) digests.add(c.scope, c.id, c.version);
        break;
      case 'page':
        changed = false;
        break;
      case 'scopeComplete':
        changed = c.full ? digests.digest(c.scope) !== state.listed?.[c.scope] || c.cursor !== undefined : false;
        if (!changed && c.cursor) completed[c.scope] = c.cursor;
        break;
      default:
        changed = true; // removed, resync, scope gone or failed, a failed item
    }
    if (changed) return { etag: row.etag, buffered, rest };
  }
  const nextCursors = { ...cursors, ...completed };
  // Nothing to write when the cursors are byte-identical (the delta answered the same link), nor
  // while the stored ones are fresh: nothing changed since them, so reading from them again next
  // time yields exactly what reading from the new ones would. They are replaced once they are
  // older than the refresh period, long before Graph expires a delta token. Measured by
  // bench:scale (20 users, 1% incremental): 4 of 15.5 storage requests per user were these rewrites.
  const refreshMs = o.cursorRefreshMs ?? CURSOR_REFRESH_MS;
  const writtenAt = state.checked ? Date.parse(state.checked) : NaN;
  if (JSON.stringify(nextCursors) === JSON.stringify(cursors) || Date.now() - writtenAt < refreshMs) return { unchanged: true };
  const next: SourceState = { ...state, cursors: nextCursors, checked: new Date().toISOString() };
  try {
    await catalog.writeState(next, { ifMatch: row.etag });
  } catch (e) {
    if (!isBackupError(e, 'PRECONDITION_FAILED')) throw e;
  }
  return { unchanged: true };
}

type Decision = { kind: 'version'; changeToken: string; groupToken: string; contentToken?: string; meta: Record<string, unknown>; chunkIds: Buffer } | { kind: 'end' };

const FLUSH_AT = 1000;
/** Items submitted but not yet durable, per service run. */
const MAX_PENDING = 2000;

/**
 * Backs up one service of one user (one partition) from a delta source into a snapshot:
 * unchanged items (same Graph change marker) are not fetched, removals and vanished scopes end
 * versions, a full listing (first run or after a refused token) ends whatever it did not list, and
 * cursors advance only for scopes that were read completely without a failed item, and only after
 * the snapshot is committed.
 */
export async function backupService(repo: Repository, o: ServiceBackupOptions): Promise<ServiceBackupResult> {
  const started = Date.now();
  const catalog = new Catalog(repo, o.partitionName);
  let prefetched: Prefetched | undefined;
  if (o.skipUnchanged) {
    const row = await catalog.readStateRow<SourceState>();
    if (row && row.value.snapshot !== undefined) {
      const p = await probeUnchanged(catalog, o, row);
      if ('unchanged' in p) {
        const empty = { fetched: 0, fetchedBytes: 0, removed: 0, reused: 0, resynced: [], failures: [], more: false };
        return { ...empty, unchanged: { seq: row.value.snapshot, items: row.value.items ?? 0 } };
      }
      prefetched = p;
    }
  }
  let lock;
  try {
    lock = await PartitionLock.acquire(repo, catalog.partition);
  } catch (e) {
    await prefetched?.rest.return?.();
    throw e;
  }
  try {
    const [snapshots, current, stateRow] = await Promise.all([catalog.snapshots(), catalog.currentVersions(), catalog.readStateRow<SourceState>()]);
    const cursors = stateRow?.value.cursors ?? {};
    // The events the probe read are valid only if the state it read is still the one under the lock.
    let events: AsyncIterable<SourceChange>;
    if (prefetched && stateRow?.etag === prefetched.etag) events = replay(prefetched);
    else {
      await prefetched?.rest.return?.();
      events = o.source.changes(cursors);
    }
    const writerOf = o.writer;
    let made: ContentWriter | undefined;
    const writer = () => (made ??= typeof writerOf === 'function' ? writerOf() : writerOf);
    const digests = new ListingDigests(cursors);
    const listed: Record<string, string> = {};
    const seq = (snapshots.at(-1)?.seq ?? 0) + 1;
    const run = await catalog.createRunKey();
    const rows = new RowBatcher((ops) => catalog.apply(ops));
    const decisions = new Map<string, Decision>();
    const latest = new Map<string, string>();
    const latestGroup = new Map<string, string>();
    const seenInScope = new Map<string, Set<string>>();
    const failedScopes = new Set<string>();
    const completed = new Map<string, string | undefined>();
    const gone = new Set<string>();
    const failures: ItemFailure[] = [];
    const result = { fetched: 0, fetchedBytes: 0, removed: 0, reused: 0, resynced: [] as string[] };
    const slots = new Semaphore(o.contentConcurrency ?? 8);
    const pending = new Set<Promise<void>>();

    // Waits until every submitted item is durable, sealing part-filled packs so nothing waits for a pack to fill.
    const settle = async () => {
      while (pending.size > 0) {
        writer().sealOpenPacks();
        await Promise.race([Promise.all(pending), sleep(100)]);
      }
    };
    const groupOf = (token: string) => {
      const d = decisions.get(token);
      if (d) return d.kind === 'version' ? d.groupToken : undefined;
      return current.get(token)?.groupToken;
    };
    /** Changes this unit has made or started (decisions, fetches under way): a unit stops only after one. */
    let changes = 0;
    const decide = (token: string, d: Decision) => {
      changes++;
      if (d.kind === 'end' && !current.has(token)) decisions.delete(token);
      else decisions.set(token, d);
      if (decisions.size >= FLUSH_AT) flush();
    };
    const end = (token: string) => {
      result.removed++;
      decide(token, { kind: 'end' });
    };
    // Row operations for the decisions so far; each token appears once, so a transaction never touches a row twice.
    const flush = () => {
      for (const [token, d] of decisions) {
        const prev = current.get(token);
        if (d.kind === 'end') {
          if (prev) rows.add(catalog.endOps(seq, prev));
          current.delete(token);
          continue;
        }
        const ops = catalog.versionOps(seq, run, { itemToken: token, changeToken: d.changeToken, groupToken: d.groupToken, contentToken: d.contentToken, meta: d.meta, chunkIds: d.chunkIds }, prev);
        rows.add(ops);
        const rowKey = itemRowKey(token, seq);
        const heads = ops.filter((op) => op.kind === 'upsert').length;
        current.set(token, { rowKey, from: seq, changeToken: d.changeToken, groupToken: d.groupToken, contentToken: d.contentToken, continuation: heads - 1, row: { partitionKey: catalog.itemPartition(token), rowKey, etag: '' } } as CurrentVersion);
      }
      decisions.clear();
    };
    const fail = (id: string, scope: string, reason: string) => {
      failures.push({ id, reason });
      failedScopes.add(scope);
    };

    // The fetch holds a slot; waiting for durability does not (packs fill from every service's items).
    const store = async (token: string, ct: string, g: string, cc: string | undefined, id: string, scope: string, meta: Record<string, unknown>, fetch: () => Promise<ItemContent>) => {
      let content: ItemContent | undefined;
      try {
        try {
          content = await fetch();
        } finally {
          slots.release();
        }
        const size = 'data' in content ? content.data.length : content.size;
        const r = await new Promise<{ chunkIds: Buffer; size: number; error?: string }>((resolve) => {
          writer().add(['data' in content! ? { data: content!.data } : { path: content!.file }], (_i, r) => resolve(r));
        });
        if (r.error) throw new Error(r.error);
        result.fetched++;
        result.fetchedBytes += size;
        o.onProgress?.({ items: result.fetched, bytes: result.fetchedBytes });
        if (latest.get(token) === ct) decide(token, { kind: 'version', changeToken: ct, groupToken: g, contentToken: cc, meta: { id, ...meta, size }, chunkIds: r.chunkIds });
      } catch (e) {
        fail(id, scope, String((e as Error)?.message ?? e));
      } finally {
        await content?.cleanup?.().catch(() => undefined);
      }
    };

    let more = false;
    const pastDeadline = () => o.deadline !== undefined && Date.now() > o.deadline && changes > 0;
    for await (const c of events) {
      if (c.kind === 'item') {
        digests.add(c.scope, c.id, c.version);
        const token = catalog.itemToken(c.id);
        const g = catalog.groupToken(c.scope);
        const ct = catalog.changeToken(c.version, c.scope);
        let seen = seenInScope.get(c.scope);
        if (!seen) seenInScope.set(c.scope, (seen = new Set()));
        seen.add(token);
        if (latest.get(token) === ct) continue; // a replay within this run
        latest.set(token, ct);
        latestGroup.set(token, g);
        const prev = current.get(token);
        if (!decisions.has(token) && prev && prev.changeToken === ct) continue; // unchanged since the last snapshot
        if (!c.content) {
          decide(token, { kind: 'version', changeToken: ct, groupToken: g, meta: { id: c.id, ...c.meta }, chunkIds: Buffer.alloc(0) });
          continue;
        }
        const cc = c.contentVersion !== undefined ? catalog.changeToken('content', c.contentVersion) : undefined;
        if (cc && prev && prev.contentToken === cc && !decisions.has(token)) {
          // Renamed or moved, content unchanged: the stored chunks are reused, nothing is downloaded.
          try {
            decide(token, { kind: 'version', changeToken: ct, groupToken: g, contentToken: cc, meta: { id: c.id, ...c.meta }, chunkIds: await catalog.chunkIdsOf(prev) });
            result.reused++;
            continue;
          } catch {
            // fall through to a fetch
          }
        }
        if (pending.size >= MAX_PENDING) await settle();
        changes++;
        await slots.acquire();
        const p: Promise<void> = store(token, ct, g, cc, c.id, c.scope, c.meta, c.content).finally(() => pending.delete(p));
        pending.add(p);
      } else if (c.kind === 'removed') {
        const token = catalog.itemToken(c.id);
        const g = catalog.groupToken(c.scope);
        // A message moved to another folder is "removed" from the old one: only the scope it lives in may end it.
        if ((latestGroup.get(token) ?? groupOf(token)) !== g) continue;
        latest.set(token, 'removed');
        seenInScope.get(c.scope)?.delete(token);
        if (current.has(token) || decisions.has(token)) end(token);
      } else if (c.kind === 'resync') {
        result.resynced.push(c.scope);
        seenInScope.set(c.scope, new Set());
      } else if (c.kind === 'page') {
        // An incremental feed can stop between pages: its next link is the cursor to resume from.
        if (!c.full && o.deadline !== undefined && Date.now() > o.deadline && (await settle(), pastDeadline())) {
          completed.set(c.scope, c.nextLink);
          more = true;
          break;
        }
      } else if (c.kind === 'scopeComplete') {
        completed.set(c.scope, c.cursor);
        const d = c.full && !c.cursor ? digests.digest(c.scope) : undefined;
        if (d) listed[c.scope] = d;
        if (c.full) {
          await settle(); // decisions of this scope must be known before reconciling
          const g = catalog.groupToken(c.scope);
          const seen = seenInScope.get(c.scope) ?? new Set<string>();
          for (const token of new Set([...current.keys(), ...decisions.keys()])) if (groupOf(token) === g && !seen.has(token) && latest.get(token) === undefined) end(token);
        }
        if (pastDeadline()) {
          more = true;
          break;
        }
      } else if (c.kind === 'scopeGone') {
        gone.add(c.scope);
        await settle();
        const g = catalog.groupToken(c.scope);
        for (const token of new Set([...current.keys(), ...decisions.keys()])) if (groupOf(token) === g && latestGroup.get(token) === undefined) end(token);
      } else if (c.kind === 'scopeFailed') fail(`(${c.scope})`, c.scope, c.reason);
      else if (c.kind === 'failed') fail(c.id, c.scope, c.reason);
    }
    await settle();
    flush();
    await rows.close();

    const stats: SnapshotStats = {
      items: current.size,
      bytes: result.fetchedBytes,
      changedItems: result.fetched,
      deletedItems: result.removed,
      newChunks: 0,
      newBytes: 0,
      storedBytes: 0,
      failedItems: failures.length,
      durationMs: Date.now() - started,
    };
    await lock.renew(); // LOCKED if this run lost its lock: never commit over another writer
    const snapshot = await catalog.commit(seq, run, { partitionName: o.partitionName, source: `${o.label.tenant}/${o.label.userPrincipalName}/${o.label.service}`, host: hostname(), failures: failures.map((f) => ({ path: f.id, reason: f.reason })) }, stats, new Date());

    // Cursors move only now, and only for scopes read to the end with nothing failed.
    const next: Record<string, string> = {};
    for (const [scope, cursor] of Object.entries(cursors)) if (!gone.has(scope)) next[scope] = cursor;
    for (const [scope, cursor] of completed) if (cursor && !failedScopes.has(scope)) next[scope] = cursor;
    // A listing digest only for listings read whole with nothing failed (else the next run looks again).
    for (const scope of failedScopes) delete listed[scope];
    const state: SourceState = { cursors: next, listed, snapshot: snapshot.seq, items: snapshot.stats.items, checked: new Date().toISOString() };
    await catalog.writeState(state);
    return { snapshot, failures, ...result, more };
  } finally {
    await lock.release().catch(() => undefined);
  }
}
