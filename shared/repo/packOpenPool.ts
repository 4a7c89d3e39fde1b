import { join } from 'node:path';
import { isBackupError } from '../errors';
import { openChunkChecked } from './chunkOpen';
import { writeTargets, type ChunkTarget, type TargetFailure } from './chunkTargets';
import type { OpenedMessage, OpenRequest, OpenWorkerInit } from './packOpenProtocol';
import { WorkerJobs } from './workerJobs';

/** One opened chunk: its plaintext, or why it cannot be read (an INTEGRITY message). */
export type Opened = Buffer | string;

/** One chunk opened and written to its targets: its plaintext length and the targets that failed; or why it cannot be read. */
export type Written = { bytes: number; failures: TargetFailure[] } | string;

/** Where the wanted chunks are in a downloaded range of a pack. */
export interface RangeChunks {
  ids: Buffer[];
  offsets: number[];
  lengths: number[];
  /** The index's plaintext lengths (a size hint for inflating). */
  rawLengths: number[];
}

/** Whether a buffer is the whole of its ArrayBuffer (then it can move to a worker without a copy). */
const ownsMemory = (b: Uint8Array) => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;

/** A copy in memory of its own (never Node's shared pool, which must not move to a worker). */
function copyOut(b: Buffer): Buffer {
  const c = Buffer.allocUnsafeSlow(b.length);
  b.copy(c);
  return c;
}

/**
 * Worker threads that open, decompress and check chunks of downloaded pack ranges (the CPU side of
 * a restore), and optionally write them into restored files. With 0 workers the work runs on the
 * calling thread. Jobs go to the least busy worker.
 */
export class PackOpenPool {
  private readonly jobs: WorkerJobs<OpenRequest, OpenedMessage>;

  constructor(
    private readonly chunkIdKey: Uint8Array,
    workers: number,
  ) {
    this.jobs = new WorkerJobs(join(__dirname, 'packOpenWorker.js'), workers, { chunkIdKey } satisfies OpenWorkerInit, 'a pack-opening worker');
  }

  /** Opens the chunks of `range`, in order. */
  async open(packId: string, packKey: Buffer, range: Buffer, c: RangeChunks): Promise<Opened[]> {
    if (this.jobs.size === 0) return this.openHere(packId, packKey, range, c);
    const m = await this.send(packId, packKey, range, c);
    // Views of the moved buffers: the plaintexts are not copied on this side either.
    return Array.from(m.lengths, (len, k) => (len < 0 ? m.errors[k]! : Buffer.from(m.buffers[k]!, m.offsets[k]!, len)));
  }

  /**
   * Opens the chunks of `range` and writes each to its targets where it was opened, so the
   * plaintexts never come back to this thread (see writeTargets).
   */
  async openAndWrite(packId: string, packKey: Buffer, range: Buffer, c: RangeChunks, targets: ChunkTarget[][]): Promise<Written[]> {
    if (this.jobs.size === 0) {
      const opened = this.openHere(packId, packKey, range, c);
      const failures = await writeTargets(opened, targets);
      return opened.map((d, i) => (typeof d === 'string' ? d : { bytes: d.length, failures: failures[i]! }));
    }
    const m = await this.send(packId, packKey, range, c, targets);
    return Array.from(m.lengths, (len, k) => (len < 0 ? m.errors[k]! : { bytes: len, failures: m.writeFailures?.[k] ?? [] }));
  }

  private openHere(packId: string, packKey: Buffer, range: Buffer, c: RangeChunks): Opened[] {
    if (this.jobs.failure) throw this.jobs.failure;
    return c.ids.map((id, i) => {
      try {
        return openChunkChecked(packKey, this.chunkIdKey, id, range.subarray(c.offsets[i]!, c.offsets[i]! + c.lengths[i]!), packId, c.rawLengths[i]);
      } catch (e) {
        if (!isBackupError(e)) throw e;
        return e.message;
      }
    });
  }

  private send(packId: string, packKey: Buffer, range: Buffer, c: RangeChunks, targets?: ChunkTarget[][]): Promise<OpenedMessage> {
    const movable = ownsMemory(range) ? range : copyOut(range);
    const req: Omit<OpenRequest, 'job'> = {
      packId,
      packKey,
      range: movable,
      ids: Buffer.concat(c.ids),
      offsets: Int32Array.from(c.offsets),
      lengths: Int32Array.from(c.lengths),
      rawLengths: Int32Array.from(c.rawLengths),
      targets,
    };
    return this.jobs.run(req, [movable.buffer as ArrayBuffer]);
  }

  close(): Promise<void> {
    return this.jobs.close();
  }
}
