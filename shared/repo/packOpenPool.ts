import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { isBackupError } from '../errors';
import { openChunkChecked } from './chunkOpen';
import type { OpenedMessage, OpenRequest, OpenWorkerInit } from './packOpenProtocol';

/** One opened chunk: its plaintext, or why it cannot be read (an INTEGRITY message). */
export type Opened = Buffer | string;

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: Opened[]) => void; reject: (e: unknown) => void }>;
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
 * a restore). With 0 workers the work runs on the calling thread. Jobs go to the least busy worker.
 */
export class PackOpenPool {
  private readonly slots: Slot[] = [];
  private nextJob = 0;
  private failure?: unknown;

  constructor(
    private readonly chunkIdKey: Uint8Array,
    workers: number,
  ) {
    const init: OpenWorkerInit = { chunkIdKey };
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(join(__dirname, 'packOpenWorker.js'), { workerData: init });
      const slot: Slot = { worker, pending: new Map() };
      worker.on('message', (m: OpenedMessage) => {
        const p = slot.pending.get(m.job);
        slot.pending.delete(m.job);
        // Views of the moved buffers: the plaintexts are not copied on this side either.
        p?.resolve(Array.from(m.lengths, (len, k) => (len < 0 ? m.errors[k]! : Buffer.from(m.buffers[k]!, m.offsets[k]!, len))));
      });
      const fail = (e: unknown) => {
        this.failure ??= e instanceof Error ? e : new Error(`a pack-opening worker stopped (${String(e)})`);
        for (const p of slot.pending.values()) p.reject(this.failure);
        slot.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => code !== 0 && fail(code));
      this.slots.push(slot);
    }
  }

  /** Opens the chunks at (offset, length) of `range`, in order. */
  open(packId: string, packKey: Buffer, range: Buffer, ids: Buffer[], offsets: number[], lengths: number[], rawLengths: number[]): Promise<Opened[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.slots.length === 0) {
      return Promise.resolve(
        ids.map((id, i) => {
          try {
            return openChunkChecked(packKey, this.chunkIdKey, id, range.subarray(offsets[i]!, offsets[i]! + lengths[i]!), packId, rawLengths[i]);
          } catch (e) {
            if (!isBackupError(e)) throw e;
            return e.message;
          }
        }),
      );
    }
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const job = this.nextJob++;
    const movable = ownsMemory(range) ? range : copyOut(range);
    const req: OpenRequest = {
      job,
      packId,
      packKey,
      range: movable,
      ids: Buffer.concat(ids),
      offsets: Int32Array.from(offsets),
      lengths: Int32Array.from(lengths),
      rawLengths: Int32Array.from(rawLengths),
    };
    return new Promise((resolve, reject) => {
      slot.pending.set(job, { resolve, reject });
      slot.worker.postMessage(req, [movable.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
