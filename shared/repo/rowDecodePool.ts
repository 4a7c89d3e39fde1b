import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { StoredRow } from '../storage';
import type { ItemVersion } from './itemRow';
import { decodeGroup } from './rowDecode';
import type { DecodedVersion, DecodeRequest, DecodeResult } from './rowDecodeProtocol';
import { WorkerJobs } from './workerJobs';

type Decoded = ItemVersion | { row: string; reason: string };

/**
 * Worker threads that check and open item-version rows (row MACs, AES-GCM, JSON): a cold browse
 * read of a 10,000-item mailbox spends most of its time there, and the Table queries feeding it
 * wait on the network, so the two overlap. Kept for the process (idle workers do not keep it
 * alive); with one core the work runs on the calling thread. Nothing is written anywhere: the
 * keys and the decoded metadata live in this process's memory only.
 */
export class RowDecodePool {
  private readonly jobs: WorkerJobs<DecodeRequest, DecodeResult>;

  constructor(workers: number) {
    // A worker that stops fails what it held; the next batches go to the others (or this thread).
    this.jobs = new WorkerJobs(join(__dirname, 'rowDecodeWorker.js'), workers, undefined, 'a row-decoding worker', { failure: 'worker', unrefWhenIdle: true });
  }

  /** Checks and opens each group (a version's head row and continuation rows), in order. */
  async decode(macKey: Uint8Array, table: string, runKeys: Map<string, Buffer>, groups: StoredRow[][]): Promise<Decoded[]> {
    if (this.jobs.size === 0) return groups.map((g) => decodeGroup(macKey, table, g, runKeys));
    const m = await this.jobs.run({ table, macKey, runKeys: [...runKeys], groups });
    if (m.error !== undefined) throw new Error(`decoding item rows failed: ${m.error}`);
    return m.out.map((d) => ('reason' in d ? d : fromWire(d)));
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
