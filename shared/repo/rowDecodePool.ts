import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { StoredRow } from '../storage';
import type { ItemVersion } from './itemRow';
import { decodeGroup } from './rowDecode';
import type { DecodedVersion, DecodeRequest, DecodeResult } from './rowDecodeProtocol';

type Decoded = ItemVersion | { row: string; reason: string };

/**
 * Worker threads that check and open item-version rows (row MACs, AES-GCM, JSON): a cold browse
 * read of a 10,000-item mailbox spends most of its time there, and the Table queries feeding it
 * wait on the network, so the two overlap. Kept for the process (idle workers do not keep it
 * alive); with one core the work runs on the calling thread. Nothing is written anywhere: the
 * keys and the decoded metadata live in this process's memory only.
 */
export class RowDecodePool {
  private readonly workers: { worker: Worker; pending: number }[] = [];
  private readonly waiting = new Map<number, { resolve: (d: Decoded[]) => void; reject: (e: unknown) => void }>();
  private nextJob = 0;

  constructor(workers: number) {
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(join(__dirname, 'rowDecodeWorker.js'));
      const slot = { worker, pending: 0 };
      worker.on('message', (m: DecodeResult) => {
        if (--slot.pending === 0) worker.unref();
        const w = this.waiting.get(m.job);
        this.waiting.delete(m.job);
        if (!w) return;
        if (m.error !== undefined) w.reject(new Error(`decoding item rows failed: ${m.error}`));
        else w.resolve(m.out.map((d) => ('reason' in d ? d : fromWire(d))));
      });
      // A worker that stops fails what it held; the next batches go to the others (or this thread).
      const stop = (e: unknown) => {
        const at = this.workers.indexOf(slot);
        if (at >= 0) this.workers.splice(at, 1);
        for (const [job, w] of this.waiting) if ((w as { slot?: unknown }).slot === slot) {
          this.waiting.delete(job);
          w.reject(e instanceof Error ? e : new Error(`a row-decoding worker stopped (${String(e)})`));
        }
      };
      worker.on('error', stop);
      worker.on('exit', (code) => code !== 0 && stop(code));
      worker.unref(); // after the listeners (adding a 'message' listener refs the worker again)
      this.workers.push(slot);
    }
  }

  /** Checks and opens each group (a version's head row and continuation rows), in order. */
  decode(macKey: Uint8Array, table: string, runKeys: Map<string, Buffer>, groups: StoredRow[][]): Promise<Decoded[]> {
    if (this.workers.length === 0) {
      try {
        return Promise.resolve(groups.map((g) => decodeGroup(macKey, table, g, runKeys)));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const slot = this.workers.reduce((a, b) => (b.pending < a.pending ? b : a));
    const job = this.nextJob++;
    const req: DecodeRequest = { job, table, macKey, runKeys: [...runKeys], groups };
    if (slot.pending++ === 0) slot.worker.ref(); // held only while it has work
    return new Promise((resolve, reject) => {
      this.waiting.set(job, Object.assign({ resolve, reject }, { slot }));
      slot.worker.postMessage(req);
    });
  }
}

/** Chunk IDs come back as a Uint8Array: a Buffer view of the same memory again. */
function fromWire(d: DecodedVersion): ItemVersion {
  return { ...d, chunkIds: Buffer.from(d.chunkIds.buffer, d.chunkIds.byteOffset, d.chunkIds.byteLength) };
}

let shared: RowDecodePool | undefined;
/** The process's pool: two workers on two or more cores (the demo machine has two), none on one. */
export function rowDecodePool(): RowDecodePool {
  return (shared ??= new RowDecodePool(availableParallelism() > 1 ? Math.min(2, availableParallelism()) : 0));
}
