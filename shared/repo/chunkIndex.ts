import { createHash } from 'node:crypto';
import { forEachConcurrent } from '../concurrency';
import { isBackupError } from '../errors';
import type { Row } from '../storage';
import { BloomFilter } from './bloom';
import { BLOOM_BLOB, packIndexBlobName } from './layout';
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
 */
export class ChunkIndex {
  private bloomEtag: string | undefined;
  private dirty = false;

  private constructor(
    private readonly repo: Repository,
    private bloom: BloomFilter,
  ) {}

  static async open(repo: Repository): Promise<ChunkIndex> {
    const { blobs, layout, keys } = repo;
    const stat = await blobs.stat(layout.metaContainer, BLOOM_BLOB);
    if (stat) {
      const bloom = BloomFilter.decode(keys.macKey, await blobs.getBlob(layout.metaContainer, BLOOM_BLOB));
      if (bloom && bloom.count < bloom.capacity) {
        const index = new ChunkIndex(repo, bloom);
        index.bloomEtag = stat.etag;
        return index;
      }
    }
    // No usable filter (first run, lost, damaged or full): rebuild it from the chunk table.
    return ChunkIndex.rebuildBloom(repo);
  }

  static async rebuildBloom(repo: Repository): Promise<ChunkIndex> {
    const ids: Buffer[] = [];
    for await (const row of repo.tables.query(repo.layout.chunkTable, { select: ['RowKey'] })) ids.push(Buffer.from(row.rowKey, 'hex'));
    const bloom = new BloomFilter(Math.max(1 << 20, ids.length * 4));
    for (const id of ids) bloom.add(id);
    const index = new ChunkIndex(repo, bloom);
    index.bloomEtag = (await repo.blobs.stat(repo.layout.metaContainer, BLOOM_BLOB))?.etag;
    index.dirty = true;
    return index;
  }

  /**
   * For each ID, whether the repository already holds that chunk (durably indexed). Only Bloom
   * hits reach the table, 14 IDs a query (Azure allows 15 comparisons in one filter).
   */
  async contains(ids: Buffer[]): Promise<boolean[]> {
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
      for await (const row of this.repo.tables.query(this.repo.layout.chunkTable, { filter, select: ['RowKey'] })) found.add(row.rowKey);
    });
    return ids.map((id) => found.has(id.toString('hex')));
  }

  /** Makes a committed pack findable: pack-index blob (Hot), then the pack row, then its chunk rows. */
  async recordPack(d: PackDescription): Promise<void> {
    const { blobs, tables, layout, keys } = this.repo;
    const indexBlob = encodePackIndex(keys.indexKey, d);
    await blobs.putBlob(layout.metaContainer, packIndexBlobName(d.packId), indexBlob, { tier: 'Hot' });
    // The pack row before its chunk rows: a chunk row must never point to a pack the index lacks,
    // whatever moment a crash picks (a pack row without chunk rows is merely unused).
    await tables.upsert(layout.packTable, packRow(this.repo, d, createHash('sha256').update(indexBlob).digest()));
    await tables.batch(
      layout.chunkTable,
      d.entries.map((e) => ({ kind: 'upsert' as const, row: chunkRow(this.repo, e.chunkId, { packId: d.packId, ...e }) })),
    );
    for (const e of d.entries) this.bloom.add(e.chunkId);
    this.dirty = true;
  }

  /** Saves the Bloom filter; a concurrent writer's filter is merged, never overwritten. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    const { blobs, layout, keys } = this.repo;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const data = this.bloom.encode(keys.macKey);
        this.bloomEtag = await blobs.putBlob(layout.metaContainer, BLOOM_BLOB, data, this.bloomEtag ? { ifMatch: this.bloomEtag } : { ifNoneMatch: true });
        this.dirty = false;
        return;
      } catch (e) {
        if (!isBackupError(e, 'PRECONDITION_FAILED') && !isBackupError(e, 'ALREADY_EXISTS')) throw e;
        const stat = await blobs.stat(layout.metaContainer, BLOOM_BLOB);
        if (stat) {
          const theirs = BloomFilter.decode(keys.macKey, await blobs.getBlob(layout.metaContainer, BLOOM_BLOB));
          if (theirs) this.bloom.merge(theirs);
        }
        this.bloomEtag = stat?.etag;
      }
    }
  }
}
