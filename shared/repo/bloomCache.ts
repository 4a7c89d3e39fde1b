import { forEachConcurrent } from '../concurrency';
import { BackupError, isBackupError } from '../errors';
import type { BlobStore } from '../storage';
import { BloomFilter } from './bloom';
import { BLOOM_DELTA_PREFIX, bloomDeltaName, decodeBloomDelta, encodeBloomDelta } from './bloomDelta';
import { BLOOM_BLOB } from './layout';
import type { Repository } from './repository';

/** Deltas listed before a writer compacts them (bounds what a process reads when it loads the filter). */
export const COMPACT_AT = 128;
/**
 * A compaction folds the deltas into the base only once they hold 1/FOLD_SHARE of the base's bytes;
 * until then it merges the small ones (under 1/MERGE_SHARE of the base's bytes each) into one delta.
 * So the base (1.26 MiB at its smallest) is rewritten once per ~10,000 new chunk IDs rather than once
 * per 128 saves: what a compaction writes grows with the new IDs, not with the repository.
 */
export const FOLD_SHARE = 4;
export const MERGE_SHARE = 16;
/** Attempts of a delta save (transient storage failures) before it is reported. */
export const SAVE_ATTEMPTS = 4;
const SAVE_BACKOFF_MS = 250;
/** Rounds of "a delta vanished under us" (folded by a concurrent compaction) before giving up a refresh. */
const REFRESH_ATTEMPTS = 4;

const lostRace = (e: unknown) => isBackupError(e, 'PRECONDITION_FAILED') || isBackupError(e, 'ALREADY_EXISTS');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The chunk Bloom filter of one repository, kept once per worker process (docs/repository-format.md,
 * section 9): loaded once (the base blob and every delta blob), then refreshed by increments (a
 * listing of the delta blobs and a stat of the base; only new deltas are read, the base again only
 * after a compaction replaced it). New IDs are saved as a delta blob per content session; the
 * filter is never rewritten whole per unit. Stale knowledge only costs a duplicate chunk stored.
 */
export class SharedBloom {
  private filter?: BloomFilter;
  private baseEtag?: string;
  /** Delta blobs merged into `filter` (named so a refresh reads only new ones). */
  private readonly merged = new Set<string>();
  /** IDs this process recorded whose delta save failed: included in the next save. */
  private unsaved: Buffer[] = [];
  private refreshing?: Promise<void>;
  private compacting?: Promise<void>;

  constructor(private readonly repo: Repository) {}

  private get blobs(): BlobStore {
    return this.repo.blobs;
  }
  private get container(): string {
    return this.repo.layout.metaContainer;
  }

  /** Brings the filter up to date with what other processes saved; concurrent callers share one refresh. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  mightContain(id: Uint8Array): boolean {
    return this.filter?.mightContain(id) ?? true;
  }

  /** IDs now durably indexed (chunk rows written) by this process. */
  add(ids: Uint8Array[]): void {
    for (const id of ids) this.filter?.add(id);
  }

  get deltaCount(): number {
    return this.merged.size;
  }

  private async doRefresh(): Promise<void> {
    for (let attempt = 0; attempt < REFRESH_ATTEMPTS; attempt++) {
      // List before the stat: a compaction writes the base before deleting what it folded, so a
      // delta missing from this listing is in the base the stat then sees.
      const names: string[] = [];
      for await (const b of this.blobs.list(this.container, { prefix: BLOOM_DELTA_PREFIX })) names.push(b.name);
      const stat = await this.blobs.stat(this.container, BLOOM_BLOB);
      if (!this.filter || stat?.etag !== this.baseEtag) {
        if (!(await this.loadBase(stat?.etag))) continue;
      }
      const listed = new Set(names);
      for (const n of [...this.merged]) if (!listed.has(n)) this.merged.delete(n); // folded into the base
      let vanished = false;
      await forEachConcurrent(
        names.filter((n) => !this.merged.has(n)),
        8,
        async (name) => {
          const data = await this.blobs.getBlob(this.container, name).catch((e: unknown) => {
            if (isBackupError(e, 'NOT_FOUND')) return undefined;
            throw e;
          });
          if (!data) {
            vanished = true; // compacted meanwhile: into the base (its ETag changes) or a merged delta (listed next time)
            return;
          }
          // A damaged delta is skipped (its IDs may be stored again: duplicates, never loss).
          for (const id of decodeBloomDelta(this.repo.keys.macKey, data) ?? []) this.filter!.add(id);
          this.merged.add(name);
        },
      );
      if (!vanished) return;
      // Look again: list, then stat. A fold into the base shows as a new ETag (read then); a merge
      // as a new delta in the listing (its delta was written before the ones it merged were deleted).
    }
  }

  /** Reads the base (rebuilding it from the chunk table when absent, damaged or full). False: lost a race, look again. */
  private async loadBase(etag: string | undefined): Promise<boolean> {
    const { keys } = this.repo;
    let base: BloomFilter | undefined;
    if (etag) {
      const data = await this.blobs.getBlob(this.container, BLOOM_BLOB).catch((e: unknown) => {
        if (isBackupError(e, 'NOT_FOUND')) return undefined;
        throw e;
      });
      if (!data) return false;
      base = BloomFilter.decode(keys.macKey, data);
      if (base && base.count >= base.capacity) base = undefined;
    }
    let newEtag = etag;
    if (!base) {
      base = await rebuildFromChunkTable(this.repo);
      try {
        newEtag = await this.blobs.putBlob(this.container, BLOOM_BLOB, base.encode(keys.macKey), etag ? { ifMatch: etag, tier: 'Hot' } : { ifNoneMatch: true, tier: 'Hot' });
      } catch (e) {
        if (!lostRace(e)) throw e;
        return false; // another process wrote a base meanwhile: read theirs
      }
    }
    // Keep what this process knew (same shape), and what it failed to save.
    if (this.filter) base.merge(this.filter);
    for (const id of this.unsaved) base.add(id);
    this.filter = base;
    this.baseEtag = newEtag;
    this.merged.clear();
    return true;
  }

  /**
   * Saves `ids` (and any this process failed to save before) as one new delta blob. Retried on
   * transient failures, then reported (STORAGE): the chunks are stored and indexed either way, and
   * the IDs are kept for the next save of this process.
   */
  async saveDelta(ids: Buffer[]): Promise<void> {
    const all = [...this.unsaved, ...ids];
    if (all.length === 0) return;
    const name = bloomDeltaName();
    const data = encodeBloomDelta(this.repo.keys.macKey, all);
    let last: unknown;
    for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
      try {
        await this.blobs.putBlob(this.container, name, data, { ifNoneMatch: true, tier: 'Hot' });
        last = undefined;
        break;
      } catch (e) {
        if (lostRace(e)) {
          last = undefined; // an earlier attempt wrote it and its reply was lost
          break;
        }
        if (!isBackupError(e, 'STORAGE') && !isBackupError(e, 'STORAGE_UNREACHABLE')) {
          last = e;
          break;
        }
        last = e;
        if (attempt + 1 < SAVE_ATTEMPTS) await sleep(SAVE_BACKOFF_MS * 2 ** attempt);
      }
    }
    if (last !== undefined) {
      this.unsaved = all;
      throw new BackupError(
        'STORAGE',
        `The deduplication index could not be saved (${all.length} new chunk IDs, ${SAVE_ATTEMPTS} attempts): ${String((last as Error)?.message ?? last)}. The content is stored and indexed; until a later save succeeds, other workers may store these chunks again.`,
        { cause: last },
      );
    }
    this.unsaved = [];
    this.merged.add(name);
    if (this.merged.size >= COMPACT_AT) await this.compact().catch(() => undefined);
  }

  /**
   * Compacts the delta blobs. While they are small against the base (under 1/FOLD_SHARE of its bytes),
   * merges the small ones into one new delta and only then deletes them (a reader that misses one
   * finds the merged delta when it lists again); two concurrent merges only write the IDs twice.
   * Otherwise folds them into the base: read base and deltas, OR them, write the base with If-Match,
   * and only then delete the deltas folded (a reader that misses one reads the new base). A concurrent
   * fold wins the If-Match and this one gives up without deleting anything.
   */
  compact(): Promise<void> {
    this.compacting ??= this.doCompact().finally(() => (this.compacting = undefined));
    return this.compacting;
  }

  private async doCompact(): Promise<void> {
    const { keys } = this.repo;
    const stat = await this.blobs.stat(this.container, BLOOM_BLOB);
    if (!stat) return;
    const deltas: { name: string; size: number }[] = [];
    for await (const b of this.blobs.list(this.container, { prefix: BLOOM_DELTA_PREFIX })) deltas.push({ name: b.name, size: b.size });
    const deltaBytes = deltas.reduce((n, d) => n + d.size, 0);
    if (deltaBytes * FOLD_SHARE < stat.size) return this.mergeDeltas(deltas.filter((d) => d.size * MERGE_SHARE < stat.size).map((d) => d.name));
    let base = BloomFilter.decode(keys.macKey, await this.blobs.getBlob(this.container, BLOOM_BLOB));
    const folded = deltas.map((d) => d.name);
    const ids = await this.readDeltas(folded);
    if (!base || base.count + ids.length >= base.capacity) base = await rebuildFromChunkTable(this.repo, ids.length);
    else for (const id of ids) base.add(id);
    let etag: string;
    try {
      etag = await this.blobs.putBlob(this.container, BLOOM_BLOB, base.encode(keys.macKey), { ifMatch: stat.etag, tier: 'Hot' });
    } catch (e) {
      if (lostRace(e) || isBackupError(e, 'NOT_FOUND')) return;
      throw e;
    }
    await forEachConcurrent(folded, 8, async (name) => {
      await this.blobs.deleteBlob(this.container, name).catch(() => undefined);
    });
    if (this.filter && base.merge(this.filter)) {
      /* shapes match: base now also holds what this process knew */
    }
    for (const id of this.unsaved) base.add(id);
    this.filter = base;
    this.baseEtag = etag;
    this.merged.clear();
  }

  /** Merges `names` into one new delta, then deletes them; this process's filter gains their IDs. */
  private async mergeDeltas(names: string[]): Promise<void> {
    if (names.length < 2) return;
    const ids = await this.readDeltas(names);
    const merged = bloomDeltaName();
    if (ids.length > 0) await this.blobs.putBlob(this.container, merged, encodeBloomDelta(this.repo.keys.macKey, ids), { ifNoneMatch: true, tier: 'Hot' });
    await forEachConcurrent(names, 8, async (name) => {
      await this.blobs.deleteBlob(this.container, name).catch(() => undefined);
    });
    for (const id of ids) this.filter?.add(id);
    for (const n of names) this.merged.delete(n);
    if (ids.length > 0 && this.filter) this.merged.add(merged);
  }

  /** The IDs of the delta blobs `names` (one gone meanwhile, or damaged, adds none). */
  private async readDeltas(names: string[]): Promise<Buffer[]> {
    const ids: Buffer[] = [];
    await forEachConcurrent(names, 8, async (name) => {
      const data = await this.blobs.getBlob(this.container, name).catch((e: unknown) => {
        if (isBackupError(e, 'NOT_FOUND')) return undefined;
        throw e;
      });
      const got = data && decodeBloomDelta(this.repo.keys.macKey, data);
      if (got) ids.push(...got);
    });
    return ids;
  }

  /** Replaces the base with `filter` whatever it held (an explicit rebuild of the index). */
  async replaceBase(filter: BloomFilter): Promise<void> {
    this.baseEtag = await this.blobs.putBlob(this.container, BLOOM_BLOB, filter.encode(this.repo.keys.macKey), { tier: 'Hot' });
    this.filter = filter;
    this.merged.clear();
  }
}

/** A filter of every ID in the chunk table, sized for four times as many (plus `extra`). */
export async function rebuildFromChunkTable(repo: Repository, extra = 0): Promise<BloomFilter> {
  const ids: Buffer[] = [];
  for await (const row of repo.tables.query(repo.layout.chunkTable, { select: ['RowKey'] })) ids.push(Buffer.from(row.rowKey, 'hex'));
  const bloom = new BloomFilter(Math.max(1 << 20, (ids.length + extra) * 4));
  for (const id of ids) bloom.add(id);
  return bloom;
}

/** One SharedBloom per repository per process, keyed by its stores and its repository id. */
const shared = new WeakMap<BlobStore, Map<string, SharedBloom>>();

export function sharedBloom(repo: Repository): SharedBloom {
  let byRepo = shared.get(repo.blobs);
  if (!byRepo) shared.set(repo.blobs, (byRepo = new Map()));
  const key = `${repo.layout.name}/${repo.config.repositoryId}`;
  let s = byRepo.get(key);
  if (!s) byRepo.set(key, (s = new SharedBloom(repo)));
  return s;
}
