import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { cpus } from 'node:os';
import type { ChunkIndex } from './chunkIndex';
import type { PackDescription } from './packFormat';
import { PackWriter } from './packWriter';
import type { Repository } from './repository';
import type { BlockMessage, FinishedMessage, FromWorker, JobFile, SealedMessage, ToWorker, WindowMessage, WorkerInit } from './workerProtocol';

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

/**
 * Packs committed in the background at once: their blocks are already staged, so they hold no
 * memory, only round trips (commit, pack-index blob, rows); a few overlap with the next packs.
 */
const MAX_FINISHING_PACKS = 3;
/**
 * Committed packs whose chunk rows may wait for company (ContentWriter.indexRows): rows are written
 * as soon as a source needs them durable, or when this many packs wait.
 */
const MAX_UNINDEXED_PACKS = 8;
/** Upload blocks: ~4 MiB requests; a worker's ring holds RING_BLOCKS of them (staged or being filled). */
const BLOCK_BYTES = 4 * 1024 * 1024;
const RING_BLOCKS = 8;
/** stageBlock requests in flight across all packs. */
const MAX_UPLOADS = 4;
/** Jobs handed to one worker ahead: the next is ready when the current one ends, so it never idles. */
const JOBS_AHEAD = 2;
/** Queued sources merged into one job message, so many small items cost few messages. */
const JOB_FILES = 128;
const JOB_INLINE_BYTES = 16 * 1024 * 1024;

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
  writer: OpenPack;
}

/** A slot's pack writer and how many of its windows still wait for their sealed chunks. */
interface OpenPack {
  writer: PackWriter;
  /** raw bytes assigned to it so far (the rollover decision is made when a window is planned) */
  planned: number;
  outstanding: number;
  retired: boolean;
}

interface Slot {
  worker: Worker;
  ring: SharedArrayBuffer;
  jobs: Map<number, Task[]>;
  /** the pack new windows go to */
  pack?: OpenPack;
  /** every pack the worker still appends to or finishes, by pack ID (blocks are routed by it) */
  packs: Map<string, OpenPack>;
  pending: PendingWindow[];
  finished: Map<string, (sha256: Buffer) => void>;
  /** window messages, handled one after another (they wait for the index and for backpressure) */
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
  /** Packs committed (blob, pack-index blob, pack row) whose chunk rows are not written yet. */
  private readonly unindexed = new Map<string, PackDescription>();
  /** The chunk-row write in progress, and whether packs committed meanwhile want another round. */
  private indexing?: Promise<void>;
  private indexAgain = false;
  private readonly waiting = new Map<string, Set<Task>>();
  private readonly finishing = new Set<Promise<void>>();
  private outstanding = 0;
  private idle?: () => void;
  private failure?: unknown;
  private nextJob = 0;
  private uploads = 0;
  private readonly uploadQueue: (() => void)[] = [];
  private readonly failed = new Set<(e: unknown) => void>();
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
      ring: new SharedArrayBuffer(0),
      blockBytes: BLOCK_BYTES,
    };
    for (let i = 0; i < n; i++) {
      const ring = new SharedArrayBuffer(RING_BLOCKS * BLOCK_BYTES);
      const worker = new Worker(join(__dirname, 'chunkWorker.js'), { workerData: { ...init, ring } });
      const slot: Slot = { worker, ring, jobs: new Map(), packs: new Map(), pending: [], finished: new Map(), chain: Promise.resolve() };
      worker.on('message', (m: FromWorker) => {
        try {
          this.onMessage(slot, m);
        } catch (e) {
          this.fail(e);
        }
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
    for (let ahead = 1; ahead <= JOBS_AHEAD; ahead++)
      for (const slot of this.slots) {
        if (slot.jobs.size >= ahead || this.queue.length === 0) continue;
        const files: JobFile[] = [];
        const tasks: Task[] = [];
        let inline = 0;
        while (this.queue.length > 0) {
          const next = this.queue[0]!;
          // Only sources given as bytes are merged: paths come batched by their caller, who knows their sizes.
          const allInline = next.files.every((f) => f.data);
          const bytes = next.files.reduce((n, f) => n + (f.data?.byteLength ?? 0), 0);
          if (files.length > 0 && (!allInline || files.length + next.files.length > JOB_FILES || inline + bytes > JOB_INLINE_BYTES)) break;
          this.queue.shift();
          files.push(...next.files);
          tasks.push(...next.tasks);
          inline += bytes;
          if (!allInline) break;
        }
        const job = this.nextJob++;
        slot.jobs.set(job, tasks);
        this.post(slot, { t: 'job', job, files });
      }
  }

  private post(slot: Slot, m: ToWorker): void {
    slot.worker.postMessage(m);
  }

  private fail(e: unknown): void {
    this.failure ??= e;
    for (const reject of this.failed) reject(e);
    this.failed.clear();
    this.idle?.();
  }

  /** Runs an upload within MAX_UPLOADS. */
  private readonly schedule = async (upload: () => Promise<void>): Promise<void> => {
    while (this.uploads >= MAX_UPLOADS) await new Promise<void>((resolve) => this.uploadQueue.push(resolve));
    this.uploads++;
    try {
      await upload();
    } finally {
      this.uploads--;
      this.uploadQueue.shift()?.();
    }
  };

  /** The slot's open pack for a window of `bytes` new raw bytes; a full one retires (it finishes once sealed). */
  private packFor(slot: Slot, bytes: number): OpenPack {
    if (slot.pack && slot.pack.planned >= this.repo.config.packTargetBytes) this.retire(slot);
    if (!slot.pack) {
      slot.pack = { writer: new PackWriter(this.repo.blobs, this.repo.layout.packContainer, this.repo.keys.publicKey, this.schedule), planned: 0, outstanding: 0, retired: false };
      slot.packs.set(slot.pack.writer.packId, slot.pack);
    }
    slot.pack.planned += bytes;
    return slot.pack;
  }

  private retire(slot: Slot): void {
    const pack = slot.pack;
    if (!pack) return;
    slot.pack = undefined;
    pack.retired = true;
    if (pack.outstanding === 0) this.finishPack(slot, pack);
  }

  /**
   * Window messages queue on the slot's chain; the others are handled at once: they free worker
   * memory (blocks, buffers) that a waiting window may need, so they must never queue behind it.
   */
  private onMessage(slot: Slot, m: FromWorker): void {
    if (this.failure) return;
    switch (m.t) {
      case 'fatal':
        throw new Error(`chunk worker failed: ${m.message}`);
      case 'window':
        slot.chain = slot.chain.then(() => this.onWindow(slot, m)).catch((e: unknown) => this.fail(e));
        return;
      case 'sealed':
        return this.onSealed(slot, m);
      case 'block':
        return this.onBlock(slot, m);
      case 'finished':
        return this.onFinished(slot, m);
    }
  }

  private onBlock(slot: Slot, m: BlockMessage): void {
    const data = Buffer.from(slot.ring, m.block * BLOCK_BYTES, m.bytes);
    slot.packs.get(m.packId)!.writer.stageBlock(data, () => {
      if (!this.failure) this.post(slot, { t: 'free', block: m.block });
    });
  }

  private onFinished(slot: Slot, m: FinishedMessage): void {
    const resolve = slot.finished.get(m.packId)!;
    slot.finished.delete(m.packId);
    resolve(Buffer.from(m.sha256));
  }

  private async onWindow(slot: Slot, msg: WindowMessage): Promise<void> {
    const tasks = slot.jobs.get(msg.job)!;
    const failed = new Set(msg.ended.filter((e) => e.error).map((e) => e.file));
    const n = msg.lengths.length;
    const ids: Buffer[] = [];
    const hexes: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(Buffer.from(msg.ids.buffer, msg.ids.byteOffset + i * 32, 32));
      hexes.push(ids[i]!.toString('hex'));
    }
    // Ask the index only about IDs this run has not seen.
    const unknown: Buffer[] = [];
    const unknownHex: string[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const hex = hexes[i]!;
      if (!this.runChunks.has(hex) && !seen.has(hex) && !failed.has(msg.files[i]!)) {
        seen.add(hex);
        unknown.push(ids[i]!);
        unknownHex.push(hex);
      }
    }
    const present = unknown.length > 0 ? await this.index.contains(unknown) : [];
    unknownHex.forEach((hex, i) => {
      if (present[i]) this.runChunks.set(hex, null);
    });
    // Backpressure: packs being committed hold their buffered blocks; never let them pile up.
    while (this.finishing.size >= MAX_FINISHING_PACKS) await Promise.race(this.finishing);
    let newBytes = 0;
    for (let i = 0; i < n; i++) if (!failed.has(msg.files[i]!) && this.runChunks.get(hexes[i]!) === undefined) newBytes += msg.lengths[i]!;
    const pack = this.packFor(slot, newBytes);
    const want: number[] = [];
    let windowBytes = 0;
    for (let i = 0; i < n; i++) {
      windowBytes += msg.lengths[i]!;
      const task = tasks[msg.files[i]!]!;
      if (failed.has(msg.files[i]!)) continue;
      const hex = hexes[i]!;
      this.stats.chunks++;
      this.stats.bytesRead += msg.lengths[i]!;
      let packId = this.runChunks.get(hex);
      if (packId === undefined) {
        want.push(i);
        packId = pack.writer.packId;
        this.runChunks.set(hex, packId);
        this.stats.newChunks++;
        this.stats.newBytes += msg.lengths[i]!;
      }
      if (packId !== null && !this.durablePacks.has(packId)) task.deps.add(packId);
      task.ids.push(ids[i]!);
    }
    this.options.onBytes?.(windowBytes);
    pack.outstanding++;
    slot.pending.push({ msg, want, writer: pack });
    this.post(slot, { t: 'seal', job: msg.job, window: msg.window, packId: pack.writer.packId, packKey: pack.writer.packKey, want });
  }

  private onSealed(slot: Slot, m: SealedMessage): void {
    const { msg, want, writer: pack } = slot.pending.shift()!;
    want.forEach((i, j) => {
      pack.writer.addEntry(Buffer.from(msg.ids.buffer, msg.ids.byteOffset + i * 32, 32), m.lengths[j]!, msg.lengths[i]!);
      this.stats.storedBytes += m.lengths[j]!;
    });
    pack.outstanding--;
    const tasks = slot.jobs.get(msg.job)!;
    for (const e of msg.ended) {
      const task = tasks[e.file]!;
      task.ended = true;
      task.size = e.size;
      task.error = e.error;
      this.settle(task);
    }
    if (pack.retired && pack.outstanding === 0) this.finishPack(slot, pack);
    if (msg.last) {
      slot.jobs.delete(msg.job);
      this.dispatch();
    }
  }

  /** Has the worker append the pack's tail and hash it, then commits the pack (its chunk rows follow in indexRows). */
  private finishPack(slot: Slot, pack: OpenPack): void {
    const writer = pack.writer;
    const p = (async () => {
      if (writer.chunkCount === 0) return; // nothing was appended: the worker never saw this pack
      const sha256 = new Promise<Buffer>((resolve, reject) => {
        this.failed.add(reject);
        slot.finished.set(writer.packId, (h) => {
          this.failed.delete(reject);
          resolve(h);
        });
      });
      this.post(slot, { t: 'finish', packId: writer.packId, tail: writer.tail() });
      const d = await writer.finish(await sha256);
      await this.index.commitPack(d);
      this.stats.packs++;
      this.unindexed.set(d.packId, d);
      const wanted = [...(this.waiting.get(d.packId) ?? [])].some((t) => this.indexable(t));
      if (wanted || this.unindexed.size >= MAX_UNINDEXED_PACKS) void this.indexRows();
    })()
      .catch((e: unknown) => this.fail(e))
      .finally(() => {
        this.finishing.delete(p);
        slot.packs.delete(writer.packId);
      });
    this.finishing.add(p);
  }

  /** Whether a source waits only for chunk rows: every pack it needs is committed. */
  private indexable(task: Task): boolean {
    if (!task.ended) return false;
    for (const d of task.deps) if (!this.durablePacks.has(d) && !this.unindexed.has(d)) return false;
    return true;
  }

  /**
   * Writes the chunk rows of every committed pack in one batch per partition, then makes those packs
   * durable (their waiting sources settle). Rows wait for company until a source needs them: a large
   * file spanning several packs gets its packs' rows written together when it ends, not 16 small
   * batches per pack. One write runs at a time; packs committed meanwhile go in the next.
   */
  private indexRows(): Promise<void> {
    this.indexAgain = true;
    this.indexing ??= this.runIndexing();
    return this.indexing;
  }

  private async runIndexing(): Promise<void> {
    await null; // so `indexing` is set before this body can reach its finally
    try {
      while (this.indexAgain && !this.failure) {
        this.indexAgain = false;
        const ds = [...this.unindexed.values()];
        if (ds.length === 0) continue;
        await this.index.indexChunks(ds);
        const waiters = new Set<Task>();
        for (const d of ds) {
          this.unindexed.delete(d.packId);
          this.durablePacks.add(d.packId);
          for (const t of this.waiting.get(d.packId) ?? []) waiters.add(t);
          this.waiting.delete(d.packId);
        }
        // Each source once, after all of these packs are durable (it may wait for several of them).
        for (const t of waiters) this.settle(t);
      }
    } catch (e) {
      this.fail(e);
    } finally {
      // No await between the loop's last check and here: a request made after it starts a new run.
      this.indexing = undefined;
    }
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
      if (this.indexable(task)) void this.indexRows();
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
        if (slot.pack && slot.pack.outstanding === 0 && slot.pack.writer.chunkCount > 0) this.retire(slot);
      });
  }

  /**
   * Finishes open packs once every queued source is chunked and waits until all are durable.
   * May be called repeatedly; the writer stays usable until close().
   */
  async flush(): Promise<void> {
    while (true) {
      if (this.failure) throw this.failure;
      const busy = this.queue.length > 0 || this.slots.some((s) => s.jobs.size > 0);
      if (!busy) {
        for (const s of this.slots) {
          await s.chain;
          this.retire(s);
        }
        await Promise.all(this.finishing);
        await this.indexRows();
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
