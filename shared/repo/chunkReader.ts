import { availableParallelism } from 'node:os';
import type { PrivateKey } from '../crypto';
import { forEachConcurrent } from '../concurrency';
import { BackupError, isBackupError } from '../errors';
import { chunkPartition, packPartition, type ChunkLocation } from './chunkIndex';
import { openChunk } from './chunkCodec';
import { BLOOM_BLOB, packBlobName } from './layout';
import type { Repository } from './repository';
import { macValid } from './rowMac';
import { PackOpenPool, type RangeChunks } from './packOpenPool';
import type { ChunkTarget, TargetFailure } from './chunkTargets';

/** Gaps smaller than this between wanted chunks are read through rather than split into requests. */
const MERGE_GAP = 1024 * 1024;
const MAX_RANGE = 32 * 1024 * 1024;
/** Scanning the chunk table beats a lookup per chunk when it holds at most this many rows per wanted chunk. */
const SCAN_RATIO = 16;

export interface ChunkNeed {
  id: Buffer;
  loc: ChunkLocation;
}

/** How a restore reads: requests in flight, memory they may hold, worker threads opening chunks. */
export interface ParallelReadOptions {
  /** Ranged reads in flight at once (default 4). */
  concurrency?: number;
  /** Bytes the reads in flight may hold: the sealed range, its plaintext and the download's copy (default 128 MiB). */
  memoryBytes?: number;
  /** Worker threads that open chunks (default: the cores, at most 2; 0 = on this thread). */
  workers?: number;
  /** Largest ranged read (default 8 MiB). */
  maxRange?: number;
  /** Keep the worker threads for the next call (then `close()` ends them). */
  keepWorkers?: boolean;
}

/** A run of wanted chunks of one pack read in one request. */
interface RangeRead {
  packId: string;
  start: number;
  end: number;
  needs: ChunkNeed[];
}

/** Splits each pack's wanted chunks into ranges: neighbours merged across gaps under MERGE_GAP, at most `maxRange` long. */
function planRanges(needs: Iterable<ChunkNeed>, maxRange: number): RangeRead[] {
  const byPack = new Map<string, ChunkNeed[]>();
  for (const n of needs) {
    let list = byPack.get(n.loc.packId);
    if (!list) byPack.set(n.loc.packId, (list = []));
    list.push(n);
  }
  const ranges: RangeRead[] = [];
  for (const [packId, list] of byPack) {
    list.sort((a, b) => a.loc.offset - b.loc.offset);
    let cur: RangeRead | undefined;
    for (const n of list) {
      const end = n.loc.offset + n.loc.length;
      if (cur && n.loc.offset - cur.end < MERGE_GAP && end - cur.start <= maxRange) {
        cur.end = Math.max(cur.end, end);
        cur.needs.push(n);
      } else ranges.push((cur = { packId, start: n.loc.offset, end, needs: [n] }));
    }
  }
  return ranges;
}

/** A counting semaphore over bytes: waits until `cost` fits (one oversized request may run alone). */
class ByteBudget {
  private used = 0;
  private readonly waiting: { cost: number; go: () => void }[] = [];
  constructor(private readonly limit: number) {}
  async acquire(cost: number): Promise<void> {
    if (this.used === 0 || this.used + cost <= this.limit) {
      this.used += cost;
      return;
    }
    await new Promise<void>((go) => this.waiting.push({ cost, go }));
  }
  release(cost: number): void {
    this.used -= cost;
    while (this.waiting.length > 0 && (this.used === 0 || this.used + this.waiting[0]!.cost <= this.limit)) {
      const w = this.waiting.shift()!;
      this.used += w.cost;
      w.go();
    }
  }
}

/**
 * Reads chunks back: locates them in the chunk table, opens pack keys with the private key and
 * fetches only the byte ranges it needs, merging neighbours into one request.
 */
export class ChunkReader {
  private readonly packKeys = new Map<string, Promise<Buffer>>();
  private pool?: PackOpenPool;

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
    const held = wanted.size > 2000 ? undefined : await this.chunkCountEstimate();
    if (wanted.size > 2000 || (held !== undefined && held <= wanted.size * SCAN_RATIO)) {
      // The 16 partitions are scanned side by side (a page of 1,000 rows costs about one lookup).
      const partitions = Array.from({ length: 16 }, (_, i) => i.toString(16));
      await forEachConcurrent(partitions, 16, async (p) => {
        for await (const row of tables.query(layout.chunkTable, { filter: `PartitionKey eq '${p}'` })) if (wanted.has(row.rowKey)) accept(row);
      });
    } else {
      await forEachConcurrent([...wanted], 16, async (hex) => {
        const row = await tables.get(layout.chunkTable, chunkPartition(hex), hex);
        if (row) accept(row);
      });
    }
    return found;
  }

  /**
   * About how many chunks the repository holds: the count in the Bloom filter blob's 24-byte header
   * ("M365BLM1", k, bits, f64le count; docs/repository-format.md), read as a range. Undefined when
   * there is none. Only a cost estimate: the rows found are checked by their MACs as always.
   */
  private async chunkCountEstimate(): Promise<number | undefined> {
    try {
      const head = await this.repo.blobs.getBlob(this.repo.layout.metaContainer, BLOOM_BLOB, { offset: 0, count: 24 });
      return head.length === 24 && head.toString('latin1', 0, 8) === 'M365BLM1' ? head.readDoubleLE(16) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The pack's key, looked up once per reader (concurrent reads of one pack share the lookup). */
  packKey(packId: string): Promise<Buffer> {
    let key = this.packKeys.get(packId);
    if (!key) {
      this.packKeys.set(packId, (key = this.lookUpPackKey(packId)));
      key.catch(() => this.packKeys.delete(packId));
    }
    return key;
  }

  private async lookUpPackKey(packId: string): Promise<Buffer> {
    const { tables, layout, keys } = this.repo;
    const row = await tables.get(layout.packTable, packPartition(packId), packId);
    if (!row) throw new BackupError('INTEGRITY', `Pack ${packId} is referenced but not in the pack index.`);
    if (!macValid(keys.macKey, layout.packTable, row)) throw new BackupError('INTEGRITY', `Pack index row ${packId} was altered or is corrupted.`);
    return this.privateKey.open(row.sealedKey as Uint8Array, `pack-key:${packId}`, `the key of pack ${packId}`);
  }

  /**
   * Reads many chunks the way a restore needs them: ranged reads of runs of chunks, several in
   * flight (bounded by count and by bytes held), opened and checked against their keyed IDs on
   * worker threads, handed to `onChunk` as they arrive (any order; `onChunk` may run concurrently for
   * chunks of different ranges, and its promise holds the range's memory until it settles). A chunk
   * that does not open or does not match its ID fails alone; a range that cannot be read fails its
   * chunks; either goes to `onFailure` (with the pack and reason) and the rest continue. Other
   * errors (storage down, a write refusing) stop the read and are thrown.
   */
  async readChunks(
    needs: Iterable<ChunkNeed>,
    onChunk: (id: Buffer, data: Buffer) => Promise<void> | void,
    onFailure: (packId: string, ids: Buffer[], reason: string) => void,
    options: ParallelReadOptions = {},
  ): Promise<void> {
    await this.readRanges(needs, onFailure, options, async (r, pool, key, range, chunks) => {
      const opened = await pool.open(r.packId, key, range, chunks);
      return async (stopped) => {
        for (let k = 0; k < r.needs.length && !stopped(); k++) {
          const o = opened[k]!;
          if (typeof o === 'string') onFailure(r.packId, [r.needs[k]!.id], o);
          else await onChunk(r.needs[k]!.id, o);
        }
      };
    });
  }

  /**
   * Like readChunks, for a restore into files: each chunk is written to `targetsOf(id)` by the
   * worker thread that opened it (the plaintext never comes back to this thread), then reported to
   * `onWritten` with its length and the targets the file system refused. `targetsOf` is asked when
   * the chunk's range is sent (a file failed by then is left out).
   */
  async writeChunks(
    needs: Iterable<ChunkNeed>,
    targetsOf: (id: Buffer) => ChunkTarget[],
    onWritten: (id: Buffer, bytes: number, failures: TargetFailure[]) => void,
    onFailure: (packId: string, ids: Buffer[], reason: string) => void,
    options: ParallelReadOptions = {},
  ): Promise<void> {
    await this.readRanges(needs, onFailure, options, async (r, pool, key, range, chunks) => {
      const written = await pool.openAndWrite(r.packId, key, range, chunks, r.needs.map((n) => targetsOf(n.id)));
      return () => {
        written.forEach((w, k) => (typeof w === 'string' ? onFailure(r.packId, [r.needs[k]!.id], w) : onWritten(r.needs[k]!.id, w.bytes, w.failures)));
      };
    });
  }

  /**
   * The range loop of readChunks and writeChunks: plans ranges, reads them (bounded), hands each to
   * `openRange` (whose INTEGRITY errors fail the range's chunks), then runs what it returns.
   */
  private async readRanges(
    needs: Iterable<ChunkNeed>,
    onFailure: (packId: string, ids: Buffer[], reason: string) => void,
    options: ParallelReadOptions,
    openRange: (r: RangeRead, pool: PackOpenPool, key: Buffer, range: Buffer, chunks: RangeChunks) => Promise<(stopped: () => boolean) => Promise<void> | void>,
  ): Promise<void> {
    const ranges = planRanges(needs, options.maxRange ?? 8 * 1024 * 1024);
    if (ranges.length === 0) return;
    const workers = options.workers ?? Math.min(2, availableParallelism());
    const pool = (this.pool ??= new PackOpenPool(this.repo.keys.chunkIdKey, options.keepWorkers ? workers : Math.min(workers, ranges.length)));
    const budget = new ByteBudget(options.memoryBytes ?? 128 * 1024 * 1024);
    let stop: unknown;
    const readOne = async (r: RangeRead) => {
      let deliver;
      try {
        const key = await this.packKey(r.packId);
        const range = await this.repo.blobs.getBlob(this.repo.layout.packContainer, packBlobName(r.packId), { offset: r.start, count: r.end - r.start });
        if (range.length !== r.end - r.start) throw new BackupError('INTEGRITY', `Pack ${r.packId} is shorter than its index says.`);
        deliver = await openRange(r, pool, key, range, {
          ids: r.needs.map((n) => n.id),
          offsets: r.needs.map((n) => n.loc.offset - r.start),
          lengths: r.needs.map((n) => n.loc.length),
          rawLengths: r.needs.map((n) => n.loc.rawLength),
        });
      } catch (e) {
        if (!isBackupError(e)) throw e;
        onFailure(r.packId, r.needs.map((n) => n.id), e.message);
        return;
      }
      await deliver(() => stop !== undefined);
    };
    try {
      await forEachConcurrent(ranges, options.concurrency ?? 4, async (r) => {
        if (stop) return;
        const cost = 3 * (r.end - r.start);
        await budget.acquire(cost);
        try {
          await readOne(r);
        } catch (e) {
          stop ??= e;
        } finally {
          budget.release(cost);
        }
      });
    } finally {
      if (!options.keepWorkers) await this.close();
    }
    if (stop) throw stop;
  }

  /** Ends the worker threads (after reads with `keepWorkers`). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
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
