import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { BackupError } from '../errors';
import { resealPack } from './reseal';
import type { ResealReply, ResealRequest } from './resealProtocol';

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (m: ResealReply) => void; reject: (e: unknown) => void }>;
}

/**
 * Worker threads that re-seal new packs for prune's repack (the CPU side of it: AES-GCM open and
 * seal, the tail, SHA-256), so it runs beside the main thread's storage traffic and on more than
 * one core. With 0 workers the work runs on the calling thread. Jobs go to the least busy worker.
 */
export class ResealPool {
  private readonly slots: Slot[] = [];
  private nextJob = 0;
  private failure?: unknown;

  constructor(workers: number) {
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(join(__dirname, 'resealWorker.js'));
      const slot: Slot = { worker, pending: new Map() };
      worker.on('message', (m: ResealReply) => {
        const p = slot.pending.get(m.job);
        slot.pending.delete(m.job);
        p?.resolve(m);
      });
      const fail = (e: unknown) => {
        this.failure ??= e instanceof Error ? e : new Error(`a re-sealing worker stopped (${String(e)})`);
        for (const p of slot.pending.values()) p.reject(this.failure);
        slot.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => code !== 0 && fail(code));
      this.slots.push(slot);
    }
  }

  /** Re-seals a new pack's chunks; `req.stream` moves to the worker (its own memory) and comes back re-sealed. */
  async reseal(req: Omit<ResealRequest, 'job'>): Promise<{ stream: Buffer; tail: Buffer; sha256: Buffer }> {
    if (this.slots.length === 0) return resealPack({ ...req, job: 0 });
    if (this.failure) throw this.failure;
    const job = ++this.nextJob;
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const m = await new Promise<ResealReply>((resolve, reject) => {
      slot.pending.set(job, { resolve, reject });
      slot.worker.postMessage({ ...req, job } satisfies ResealRequest, [req.stream.buffer as ArrayBuffer]);
    });
    if ('error' in m) throw new BackupError('INTEGRITY', `${m.error} Prune repacks nothing it cannot trust (run verify).`);
    const view = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    return { stream: view(m.stream), tail: view(m.tail), sha256: view(m.sha256) };
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
