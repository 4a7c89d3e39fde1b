import { join } from 'node:path';
import { BackupError } from '../errors';
import { resealPack } from './reseal';
import type { ResealReply, ResealRequest } from './resealProtocol';
import { WorkerJobs } from './workerJobs';

/**
 * Worker threads that re-seal new packs for prune's repack (the CPU side of it: AES-GCM open and
 * seal, the tail, SHA-256), so it runs beside the main thread's storage traffic and on more than
 * one core. With 0 workers the work runs on the calling thread.
 */
export class ResealPool {
  private readonly jobs: WorkerJobs<ResealRequest, ResealReply>;

  constructor(workers: number) {
    this.jobs = new WorkerJobs(join(__dirname, 'resealWorker.js'), workers, undefined, 'a re-sealing worker');
  }

  /** Re-seals a new pack's chunks; `req.stream` moves to the worker (its own memory) and comes back re-sealed. */
  async reseal(req: Omit<ResealRequest, 'job'>): Promise<{ stream: Buffer; tail: Buffer; sha256: Buffer }> {
    if (this.jobs.size === 0) return resealPack({ ...req, job: 0 });
    const m = await this.jobs.run(req, [req.stream.buffer as ArrayBuffer]);
    if ('error' in m) throw new BackupError('INTEGRITY', `${m.error} Prune repacks nothing it cannot trust (run verify).`);
    const view = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    return { stream: view(m.stream), tail: view(m.tail), sha256: view(m.sha256) };
  }

  close(): Promise<void> {
    return this.jobs.close();
  }
}
