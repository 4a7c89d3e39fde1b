import { createHash } from 'node:crypto';
import { forEachConcurrent } from '../concurrency';
import type { Row, RowOperation } from '../storage';
import type { BloomFilter } from './bloom';
import { rebuildFromChunkTable, sharedBloom, type SharedBloom } from './bloomCache';
import { packIndexBlobName } from './layout';
import { extendPackLocks, lockNewPack } from './packLocks';
import { ensureConfigBackup } from './configBackup';
import { encodePackIndex, type PackDescription } from './packFormat';
import type { Repository } from './repository';
import { withMac } from './rowMac';

export interface ChunkLocation {
  packId: string;
  offset: number;
  length: number;
  rawLength: number;
}

const LOOKUP_BATCH = 14;

export const chunkPartition = (idHex: string) => idHex.slice(0, 1);
export const packPartition = (packId: string) => packId.slice(0, 2);

export function chunkRow(repo: Repository, id: Buffer, loc: ChunkLocation): Row {
  const hex = id.toString('hex');
  return withMac(repo.keys.macKey, repo.layout.chunkTable, {
    partitionKey: chunkPartition(hex),
    rowKey: hex,
    pack: loc.packId,
    off: loc.offset,
    len: loc.length,
    raw: loc.rawLength,
  });
}

export function packRow(repo: Repository, d: PackDescription, indexSha256: Buffer): Row {
  return withMac(repo.keys.macKey, repo.layout.packTable, {
    partitionKey: packPartition(d.packId),
    rowKey: d.packId,
    size: d.size,
    sha256: d.sha256,
    sealedKey: d.sealedKey,
    chunks: d.entries.length,
    indexSha256,
  });
}

/**
 * The chunk index: chunk -> (pack, offset, length) rows, and pack rows, in Table Storage, with a
 * Bloom filter in front so the hot path makes no Table round trip for a chunk it has never seen.
 * The filter is the process-wide SharedBloom of the repository (bloomCache.ts): opening an index
 * costs nothing, its first lookup refreshes the filter by increments, and `save` writes only the
 * IDs this index recorded, as one small delta blob.
 */
export class ChunkIndex {
  private readonly pending: Buffer[] = [];
  /** Packs this session deduplicated against (only tracked under a lock policy). */
  private readonly reusedPacks = new Set<string>();
  private ready?: Promise<void>;
  private rebuilt?: BloomFilter;

  private constructor(
    private readonly repo: Repository,
    private readonly bloom: SharedBloom,
  ) {}

  /** No storage request: the shared filter is brought up to date on the first lookup. */
  static async open(repo: Repository): Promise<ChunkIndex> {
    return new ChunkIndex(repo, sharedBloom(repo));
  }

  /** An index whose `save` replaces the base filter with one rebuilt from the chunk table (after an index rebuild). */
  static async rebuildBloom(repo: Repository): Promise<ChunkIndex> {
    const index = new ChunkIndex(repo, sharedBloom(repo));
    index.rebuilt = await rebuildFromChunkTable(repo);
    return index;
  }

  private refreshOnce(): Promise<void> {
    if (!this.ready) {
      this.ready = this.bloom.refresh();
      this.ready.catch(() => (this.ready = undefined)); // a failed refresh is tried again by the next lookup
    }
    return this.ready;
  }

  /**
   * For each ID, whether the repository already holds that chunk (durably indexed). Only Bloom
   * hits reach the table, 14 IDs a query (Azure allows 15 comparisons in one filter).
   */
  async contains(ids: Buffer[]): Promise<boolean[]> {
    await this.refreshOnce();
    const byPartition = new Map<string, string[]>();
    for (const id of ids) {
      if (!this.bloom.mightContain(id)) continue;
      const hex = id.toString('hex');
      let list = byPartition.get(chunkPartition(hex));
      if (!list) byPartition.set(chunkPartition(hex), (list = []));
      list.push(hex);
    }
    const queries: { pk: string; keys: string[] }[] = [];
    for (const [pk, keys] of byPartition) for (let i = 0; i < keys.length; i += LOOKUP_BATCH) queries.push({ pk, keys: keys.slice(i, i + LOOKUP_BATCH) });
    const found = new Set<string>();
    await forEachConcurrent(queries, 8, async (q) => {
      const filter = `PartitionKey eq '${q.pk}' and (${q.keys.map((k) => `RowKey eq '${k}'`).join(' or ')})`;
      for await (const row of this.repo.tables.query(this.repo.layout.chunkTable, { filter, select: this.repo.lockPolicy ? ['RowKey', 'pack'] : ['RowKey'] })) {
        found.add(row.rowKey);
        // A reused chunk: its pack's lock may need extending (packLocks.ts), once per session.
        if (this.repo.lockPolicy && typeof row.pack === 'string') this.reusedPacks.add(row.pack);
      }
    });
    return ids.map((id) => found.has(id.toString('hex')));
  }

  /** Makes a committed pack findable: pack-index blob (Hot), then the pack row, then its chunk rows. */
  async recordPack(d: PackDescription): Promise<void> {
    await this.commitPack(d);
    await this.indexChunks([d]);
  }

  /**
   * The first half of recordPack: the pack-index blob, then the pack row. Until indexChunks writes
   * its chunk rows the pack is merely unused (nothing can point at it), whatever moment a crash picks.
   */
  async commitPack(d: PackDescription): Promise<void> {
    const { blobs, tables, layout, keys } = this.repo;
    const indexBlob = encodePackIndex(keys.indexKey, d);
    await blobs.putBlob(layout.metaContainer, packIndexBlobName(d.packId), indexBlob, { tier: 'Hot' });
    // The pack row before its chunk rows: a chunk row must never point to a pack the index lacks.
    await tables.upsert(layout.packTable, packRow(this.repo, d, createHash('sha256').update(indexBlob).digest()));
  }

  /**
   * The second half: the chunk rows of packs already committed (commitPack), written together so
   * several packs share each partition's batch (a pack of a few large chunks spreads one or two rows
   * over each of the 16 partitions), then each pack's lock and its IDs in the filter.
   */
  async indexChunks(ds: PackDescription[]): Promise<void> {
    if (ds.length === 0) return;
    const rows = new Map<string, RowOperation>();
    for (const d of ds)
      for (const e of d.entries) {
        const row = chunkRow(this.repo, e.chunkId, { packId: d.packId, ...e });
        // One row per chunk in a batch (a transaction may not touch a row twice): the first pack's.
        if (!rows.has(row.rowKey)) rows.set(row.rowKey, { kind: 'upsert', row });
      }
    await this.repo.tables.batch(this.repo.layout.chunkTable, [...rows.values()]);
    // Locked last: a retried commitPack rewrites the pack-index blob, which a lock would refuse.
    for (const d of ds) await lockNewPack(this.repo, d.packId);
    await this.refreshOnce();
    for (const d of ds) {
      const ids = d.entries.map((e) => Buffer.from(e.chunkId));
      this.bloom.add(ids);
      this.pending.push(...ids);
    }
  }

  /**
   * Saves the IDs this index recorded as one delta blob (no request when there are none). Retried,
   * then thrown (STORAGE) so the caller reports it: a lost save is never silent.
   */
  async save(): Promise<void> {
    if (this.repo.lockPolicy && (this.reusedPacks.size || this.pending.length)) {
      // Under a lock policy a repository from before configuration backups gets one (once per process).
      await ensureConfigBackup(this.repo, () => this.repo.configRows());
      await extendPackLocks(this.repo, this.reusedPacks);
      this.reusedPacks.clear();
    }
    if (this.rebuilt) {
      await this.bloom.replaceBase(this.rebuilt);
      this.rebuilt = undefined;
      this.pending.length = 0;
      return;
    }
    if (this.pending.length === 0) return;
    const ids = this.pending.splice(0);
    await this.bloom.saveDelta(ids);
  }
}
