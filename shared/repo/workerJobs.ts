import { Worker } from 'node:worker_threads';

interface Slot<R> {
  worker: Worker;
  pending: Map<number, { resolve: (m: R) => void; reject: (e: unknown) => void }>;
}

/**
 * Worker threads of one script answering numbered jobs (`{ job }` in, `{ job }` back): a job goes
 * to the least busy worker; a worker that fails or exits fails its pending jobs and every later one
 * (the pool is broken, its caller stops). Used by the pack-opening and the re-sealing pools.
 */
export class WorkerJobs<Req extends { job: number }, Reply extends { job: number }> {
  private readonly slots: Slot<Reply>[] = [];
  private nextJob = 0;
  failure?: unknown;

  constructor(script: string, workers: number, workerData: unknown, what: string) {
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(script, { workerData });
      const slot: Slot<Reply> = { worker, pending: new Map() };
      worker.on('message', (m: Reply) => {
        const p = slot.pending.get(m.job);
        slot.pending.delete(m.job);
        p?.resolve(m);
      });
      const fail = (e: unknown) => {
        this.failure ??= e instanceof Error ? e : new Error(`${what} stopped (${String(e)})`);
        for (const p of slot.pending.values()) p.reject(this.failure);
        slot.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => code !== 0 && fail(code));
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Sends a job (`transfer`: buffers that move to the worker) and waits for its reply. */
  run(req: Omit<Req, 'job'>, transfer: ArrayBuffer[]): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const job = this.nextJob++;
    return new Promise((resolve, reject) => {
      slot.pending.set(job, { resolve, reject });
      slot.worker.postMessage({ ...req, job }, transfer);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
