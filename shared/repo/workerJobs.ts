import { Worker } from 'node:worker_threads';

interface Slot<R> {
  worker: Worker;
  pending: Map<number, { resolve: (m: R) => void; reject: (e: unknown) => void }>;
}

export interface WorkerJobsOptions {
  /**
   * What a worker that fails or exits takes down: 'pool' (default: its pending jobs and every later
   * one fail, the caller stops) or 'worker' (its pending jobs fail; it leaves the pool and later jobs
   * go to the others; `size` counts only the live ones).
   */
  failure?: 'pool' | 'worker';
  /** Idle workers do not keep the process alive (a pool kept for the life of the process). */
  unrefWhenIdle?: boolean;
}

/**
 * Worker threads of one script answering numbered jobs (`{ job }` in, `{ job }` back): a job goes
 * to the least busy worker. Used by the pack-opening, re-sealing and row-decoding pools.
 */
export class WorkerJobs<Req extends { job: number }, Reply extends { job: number }> {
  private readonly slots: Slot<Reply>[] = [];
  private nextJob = 0;
  failure?: unknown;

  constructor(script: string, workers: number, workerData: unknown, what: string, private readonly options: WorkerJobsOptions = {}) {
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(script, { workerData });
      const slot: Slot<Reply> = { worker, pending: new Map() };
      worker.on('message', (m: Reply) => {
        const p = slot.pending.get(m.job);
        slot.pending.delete(m.job);
        if (options.unrefWhenIdle && slot.pending.size === 0) worker.unref();
        p?.resolve(m);
      });
      const fail = (e: unknown) => {
        const error = e instanceof Error ? e : new Error(`${what} stopped (${String(e)})`);
        if (options.failure === 'worker') {
          const at = this.slots.indexOf(slot);
          if (at >= 0) this.slots.splice(at, 1);
        } else this.failure ??= error;
        for (const p of slot.pending.values()) p.reject(this.failure ?? error);
        slot.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => code !== 0 && fail(code));
      if (options.unrefWhenIdle) worker.unref(); // after the listeners (adding a 'message' listener refs the worker again)
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Sends a job (`transfer`: buffers that move to the worker) and waits for its reply. */
  run(req: Omit<Req, 'job'>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const job = this.nextJob++;
    if (this.options.unrefWhenIdle && slot.pending.size === 0) slot.worker.ref(); // held only while it has work
    return new Promise((resolve, reject) => {
      slot.pending.set(job, { resolve, reject });
      slot.worker.postMessage({ ...req, job }, transfer);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
