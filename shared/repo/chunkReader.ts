import type { PrivateKey } from '../crypto';
import { forEachConcurrent } from '../concurrency';
import { BackupError } from '../errors';
import { chunkPartition, packPartition, type ChunkLocation } from './chunkIndex';
import { openChunk } from './chunkCodec';
import { packBlobName } from './layout';
import type { Repository } from './repository';
import { macValid } from './rowMac';

/** Gaps smaller than this between wanted chunks are read through rather than split into requests. */
const MERGE_GAP = 1024 * 1024;
const MAX_RANGE = 32 * 1024 * 1024;

export interface ChunkNeed {
  id: Buffer;
  loc: ChunkLocation;
}

/**
 * Reads chunks back: locates them in the chunk table, opens pack keys with the private key and
 * fetches only the byte ranges it needs, merging neighbours into one request.
 */
export class ChunkReader {
  private readonly packKeys = new Map<string, Buffer>();

  constructor(
    private readonly repo: Repository,
    private readonly privateKey: PrivateKey,
  ) {}

  /** Locations of the given chunks. Many IDs: one scan of the table beats a request per chunk. */
  async locate(ids: Iterable<string>): Promise<Map<string, ChunkLocation>> {
    const wanted = new Set(ids);
    const found = new Map<string, ChunkLocation>();
    const { tables, layout, keys } = this.repo;
    const accept = (row: Record<string, unknown> & { partitionKey: string; rowKey: string }) => {
      if (!macValid(keys.macKey, layout.chunkTable, row))
        throw new BackupError('INTEGRITY', `Chunk index row ${row.partitionKey}/${row.rowKey} was altered or is corrupted.`);
      found.set(row.rowKey, { packId: String(row.pack), offset: Number(row.off), length: Number(row.len), rawLength: Number(row.raw) });
    };
    if (wanted.size > 2000) {
      for await (const row of tables.query(layout.chunkTable)) if (wanted.has(row.rowKey)) accept(row);
    } else {
      await forEachConcurrent([...wanted], 16, async (hex) => {
        const row = await tables.get(layout.chunkTable, chunkPartition(hex), hex);
        if (row) accept(row);
      });
    }
    return found;
  }

  async packKey(packId: string): Promise<Buffer> {
    let key = this.packKeys.get(packId);
    if (key) return key;
    const { tables, layout, keys } = this.repo;
    const row = await tables.get(layout.packTable, packPartition(packId), packId);
    if (!row) throw new BackupError('INTEGRITY', `Pack ${packId} is referenced but not in the pack index.`);
    if (!macValid(keys.macKey, layout.packTable, row)) throw new BackupError('INTEGRITY', `Pack index row ${packId} was altered or is corrupted.`);
    key = this.privateKey.open(row.sealedKey as Uint8Array, `pack-key:${packId}`, `the key of pack ${packId}`);
    this.packKeys.set(packId, key);
    return key;
  }

  /** Reads the wanted chunks of one pack in merged ranges, in offset order. */
  async readFromPack(packId: string, needs: ChunkNeed[], onChunk: (id: Buffer, data: Buffer) => Promise<void> | void): Promise<void> {
    const key = await this.packKey(packId);
    const sorted = [...needs].sort((a, b) => a.loc.offset - b.loc.offset);
    let i = 0;
    while (i < sorted.length) {
      const start = sorted[i]!.loc.offset;
      let end = start + sorted[i]!.loc.length;
      let j = i + 1;
      while (j < sorted.length && sorted[j]!.loc.offset - end < MERGE_GAP && sorted[j]!.loc.offset + sorted[j]!.loc.length - start <= MAX_RANGE) {
        end = Math.max(end, sorted[j]!.loc.offset + sorted[j]!.loc.length);
        j++;
      }
      const range = await this.repo.blobs.getBlob(this.repo.layout.packContainer, packBlobName(packId), { offset: start, count: end - start });
      for (let k = i; k < j; k++) {
        const n = sorted[k]!;
        const sealed = range.subarray(n.loc.offset - start, n.loc.offset - start + n.loc.length);
        const hex = n.id.toString('hex');
        await onChunk(n.id, openChunk(key, n.id, sealed, `chunk ${hex.slice(0, 16)}… in pack ${packId}`));
      }
      i = j;
    }
  }
}
