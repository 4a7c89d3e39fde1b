import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { cpus } from 'node:os';
import type { ChunkIndex } from './chunkIndex';
import { PackWriter } from './packWriter';
import type { Repository } from './repository';
import type { FatalMessage, JobFile, SealedMessage, WindowMessage, WorkerInit } from './workerProtocol';

export interface ContentResult {
  /** Chunk IDs in content order, 32 bytes each, concatenated. */
  chunkIds: Buffer;
  size: number;
  error?: string;
}

export interface ContentStats {
  bytesRead: number;
  chunks: number;
  newChunks: number;
  newBytes: number;
  storedBytes: number;
  packs: number;
}

export interface ContentWriterOptions {
  workers?: number;
  windowBytes?: number;
  /** Called with the number of content bytes just processed. */
  onBytes?: (n: number) => void;
}

/** Packs committed in the background at once; more would only buffer memory while storage catches up. */
const MAX_FINISHING_PACKS = 1;

interface Task {
  ids: Buffer[];
  deps: Set<string>;
  ended: boolean;
  size: number;
  error?: string;
  done: (r: ContentResult) => void;
}

interface PendingWindow {
  msg: WindowMessage;
  want: number[];
  writer: PackWriter;
}

interface Slot {
  worker: Worker;
  tasks?: Task[];
  writer?: PackWriter;
  pending?: PendingWindow;
  chain: Promise<void>;
}

/**
 * Turns content (files or bytes) into chunks stored durably in packs. A source's result is delivered
 * only when every chunk it references is in a committed, indexed pack: that is when an item row may
 * point at it (docs/repository-format.md, "Write ordering").
 */
export class ContentWriter {
  private readonly slots: Slot[] = [];
  private readonly queue: { files: JobFile[]; tasks: Task[] }[] = [];
  private readonly runChunks = new Map<string, string | null>();
  private readonly durablePacks = new Set<string>();
  private readonly waiting = new Map<string, Set<Task>>();
  private readonly finishing = new Set<Promise<void>>();
  private outstanding = 0;
  private idle?: () => void;
  private failure?: unknown;
  private nextJob = 0;
  readonly stats: ContentStats = { bytesRead: 0, chunks: 0, newChunks: 0, newBytes: 0, storedBytes: 0, packs: 0 };

  constructor(
    private readonly repo: Repository,
    private readonly index: ChunkIndex,
    private readonly options: ContentWriterOptions = {},
  ) {
    const n = options.workers ?? Math.max(1, Math.min(2, cpus().length));
    const init: WorkerInit = {
      gearKey: repo.keys.gearKey,
      chunkIdKey: repo.keys.chunkIdKey,
      chunker: repo.config.chunker,
      windowBytes: options.windowBytes ?? 4 * 1024 * 1024,
    };
    for (let i = 0; i < n; i++) {
      const worker = new Worker(join(__dirname, 'chunkWorker.js'), { workerData: init });
      const slot: Slot = { worker, chain: Promise.resolve() };
      worker.on('message', (m: WindowMessage | SealedMessage | FatalMessage) => {
        slot.chain = slot.chain.then(() => this.onMessage(slot, m)).catch((e: unknown) => this.fail(e));
      });
      worker.on('error', (e) => this.fail(e));
      this.slots.push(slot);
    }
  }

  /** Queues sources; `done(i, result)` is called once per source when its content is durable. */
  add(files: JobFile[], done: (i: number, r: ContentResult) => void): void {
    if (this.failure) throw this.failure;
    const tasks = files.map((_, i): Task => ({ ids: [], deps: new Set(), ended: false, size: 0, done: (r) => done(i, r) }));
    this.outstanding += files.length;
    this.queue.push({ files, tasks });
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.tasks || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.tasks = job.tasks;
      slot.worker.postMessage({ t: 'job', job: this.nextJob++, files: job.files });
    }
  }

  private fail(e: unknown): void {
    this.failure ??= e;
    this.idle?.();
  }

  private writerFor(slot: Slot): PackWriter {
    slot.writer ??= new PackWriter(this.repo.blobs, this.repo.layout.packContainer, this.repo.keys.publicKey);
    return slot.writer;
  }

  private async onMessage(slot: Slot, m: WindowMessage | SealedMessage | FatalMessage): Promise<void> {
    if (this.failure) return;
    if (m.t === 'fatal') throw new Error(`chunk worker failed: ${m.message}`);
    if (m.t === 'window') return this.onWindow(slot, m);
    return this.onSealed(slot, m);
  }

  private async onWindow(slot: Slot, msg: WindowMessage): Promise<void> {
    const tasks = slot.tasks!;
    const failed = new Set(msg.ended.filter((e) => e.error).map((e) => e.file));
    const n = msg.lengths.length;
    const ids: Buffer[] = [];
    for (let i = 0; i < n; i++) ids.push(Buffer.from(msg.ids.buffer, msg.ids.byteOffset + i * 32, 32));
    // Ask the index only about IDs this run has not seen.
    const unknown: Buffer[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const hex = ids[i]!.toString('hex');
      if (!this.runChunks.has(hex) && !seen.has(hex) && !failed.has(msg.files[i]!)) {
        seen.add(hex);
        unknown.push(ids[i]!);
      }
    }
    const present = await this.index.contains(unknown);
    unknown.forEach((id, i) => {
      if (present[i]) this.runChunks.set(id.toString('hex'), null);
    });
    // Backpressure: packs being committed hold their buffered blocks; never let them pile up.
    while (this.finishing.size >= MAX_FINISHING_PACKS) await Promise.race(this.finishing);
    const writer = this.writerFor(slot);
    const want: number[] = [];
    for (let i = 0; i < n; i++) {
      const task = tasks[msg.files[i]!]!;
      if (failed.has(msg.files[i]!)) continue;
      const hex = ids[i]!.toString('hex');
      this.stats.chunks++;
      this.stats.bytesRead += msg.lengths[i]!;
      let pack = this.runChunks.get(hex);
      if (pack === undefined) {
        want.push(i);
        pack = writer.packId;
        this.runChunks.set(hex, pack);
        this.stats.newChunks++;
        this.stats.newBytes += msg.lengths[i]!;
      }
      if (pack !== null && !this.durablePacks.has(pack)) task.deps.add(pack);
      task.ids.push(ids[i]!);
    }
    this.options.onBytes?.(msg.lengths.reduce((a, b) => a + b, 0));
    await writer.waitForCapacity();
    slot.pending = { msg, want, writer };
    slot.worker.postMessage({ t: 'seal', job: msg.job, window: msg.window, packKey: writer.packKey, want });
  }

  private async onSealed(slot: Slot, m: SealedMessage): Promise<void> {
    const { msg, want, writer } = slot.pending!;
    slot.pending = undefined;
    const small = m.small ? Buffer.from(m.small) : undefined;
    let smallAt = 0;
    let part = 0;
    let seg = 0;
    want.forEach((i, j) => {
      const pieces: Buffer[] = [];
      for (let k = 0; k < m.counts[j]!; k++, seg++) {
        const len = m.segments[seg * 2 + 1]!;
        if (m.segments[seg * 2] === 1) pieces.push(Buffer.from(m.parts[part++]!));
        else {
          pieces.push(small!.subarray(smallAt, smallAt + len));
          smallAt += len;
        }
      }
      const sealedLength = writer.add(Buffer.from(msg.ids.subarray(i * 32, i * 32 + 32)), pieces, msg.lengths[i]!);
      this.stats.storedBytes += sealedLength;
    });
    const tasks = slot.tasks!;
    for (const e of msg.ended) {
      const task = tasks[e.file]!;
      task.ended = true;
      task.size = e.size;
      task.error = e.error;
      this.settle(task);
    }
    if (writer.size >= this.repo.config.packTargetBytes) {
      slot.writer = undefined;
      this.finishPack(writer);
    }
    if (msg.last) {
      slot.tasks = undefined;
      this.dispatch();
    }
  }

  private finishPack(writer: PackWriter): void {
    const p = (async () => {
      if (writer.chunkCount === 0) return;
      const d = await writer.finish();
      await this.index.recordPack(d);
      this.stats.packs++;
      this.durablePacks.add(d.packId);
      const waiters = this.waiting.get(d.packId);
      this.waiting.delete(d.packId);
      for (const t of waiters ?? []) this.settle(t);
    })()
      .catch((e: unknown) => this.fail(e))
      .finally(() => this.finishing.delete(p));
    this.finishing.add(p);
  }

  private settle(task: Task): void {
    if (!task.ended) return;
    for (const d of task.deps) if (this.durablePacks.has(d)) task.deps.delete(d);
    if (task.error === undefined && task.deps.size > 0) {
      for (const d of task.deps) {
        let set = this.waiting.get(d);
        if (!set) this.waiting.set(d, (set = new Set()));
        set.add(task);
      }
      return;
    }
    this.outstanding--;
    task.done({ chunkIds: Buffer.concat(task.ids), size: task.size, error: task.error });
    task.ids = [];
    if (this.outstanding === 0) this.idle?.();
  }

  /**
   * Finishes the open pack of every idle worker slot now, even below the target size, so sources
   * waiting for durability are not held until a pack fills (several sources share one writer).
   */
  sealOpenPacks(): void {
    for (const slot of this.slots)
      slot.chain = slot.chain.then(() => {
        if (!slot.pending && slot.writer && slot.writer.chunkCount > 0) {
          this.finishPack(slot.writer);
          slot.writer = undefined;
        }
      });
  }

  /**
   * Finishes open packs once every queued source is chunked and waits until all are durable.
   * May be called repeatedly; the writer stays usable until close().
   */
  async flush(): Promise<void> {
    while (true) {
      if (this.failure) throw this.failure;
      const busy = this.queue.length > 0 || this.slots.some((s) => s.tasks);
      if (!busy) {
        for (const s of this.slots) {
          await s.chain;
          if (s.writer) {
            this.finishPack(s.writer);
            s.writer = undefined;
          }
        }
        await Promise.all(this.finishing);
        if (this.failure) throw this.failure;
        if (this.outstanding === 0) return;
      }
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        setTimeout(resolve, 50);
      });
      this.idle = undefined;
    }
  }

  async close(): Promise<ContentStats> {
    try {
      await this.flush();
      return this.stats;
    } finally {
      await Promise.all(this.slots.map((s) => s.worker.terminate()));
    }
  }
}
