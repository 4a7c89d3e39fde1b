/**
 * Worker thread: reads content, cuts it with FastCDC, computes keyed chunk IDs, seals the chunks the
 * main thread asks for and assembles them into pack blocks. The CPU stages live here so the cores
 * work in parallel; the main thread only deduplicates, keeps pack entries and talks to storage.
 *
 * Pipelined: a window of chunk IDs goes to the main thread, and while it looks them up the worker
 * reads and chunks the next window into another buffer of a small pool; seal requests run between
 * windows (and whenever the worker waits for a free buffer). Read buffers live in the chunker's
 * WebAssembly memory, so files are read straight to where the gear scan runs. Sealed bytes are
 * hashed (the pack's SHA-256) and copied into blocks of the shared ring, so the main thread uploads
 * them without copying, hashing or garbage (workerProtocol.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { closeSync, openSync, readSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { Chunker } from './chunker';
import { chunkId, sealChunkPieces } from './chunkCodec';
import type { JobFile, SealRequest, WindowMessage, WorkerInit, SealedMessage, JobMessage, ToWorker, FinishRequest, BlockMessage, FinishedMessage } from './workerProtocol';

const init = workerData as WorkerInit;
const MIN_READ = 1024 * 1024;
/** Read buffers: one being filled, the others holding windows that wait for their seal request. */
const BUFFERS = 3;
const maxBytes = init.chunker.maxBytes;
const capacity = init.windowBytes + maxBytes;
const chunker = new Chunker(Buffer.from(init.gearKey), init.chunker, BUFFERS * capacity);
const chunkIdKey = Buffer.from(init.chunkIdKey);
const freeBuffers: Buffer[] = Array.from({ length: BUFFERS }, () => chunker.buffer(capacity));
let bufferFreed: (() => void) | undefined;

const ring = Buffer.from(init.ring);
const freeBlocks: number[] = Array.from({ length: Math.floor(ring.length / init.blockBytes) }, (_, i) => i);
let blockFreed: (() => void) | undefined;

interface Emitted {
  file: number;
  offset: number;
  length: number;
}

/** A window posted to the main thread, waiting for its seal request. */
interface Posted {
  job: number;
  window: number;
  buf: Buffer;
  chunks: Emitted[];
  ids: Buffer[];
}

/** A pack this worker appends to: its running SHA-256 and its current, partly filled block. */
interface PackStream {
  hash: Hash;
  block: number;
  fill: number;
}

const posted: Posted[] = [];
const packs = new Map<string, PackStream>();
const jobs: JobMessage[] = [];
let running = false;
/** Seal and finish requests run one after another, in arrival order. */
let sealing: Promise<void> = Promise.resolve();

const fatal = (job: number) => (e: unknown) => parentPort!.postMessage({ t: 'fatal', job, message: String((e as Error)?.message ?? e) });

parentPort!.on('message', (msg: ToWorker) => {
  if (msg.t === 'free') {
    freeBlocks.push(msg.block);
    blockFreed?.();
  } else if (msg.t === 'seal') sealing = sealing.then(() => seal(msg)).catch(fatal(msg.job));
  else if (msg.t === 'finish') sealing = sealing.then(() => finish(msg)).catch(fatal(-1));
  else {
    jobs.push(msg);
    if (!running) void pump();
  }
});

async function pump(): Promise<void> {
  running = true;
  while (jobs.length > 0) {
    const job = jobs.shift()!;
    await runJob(job).catch(fatal(job.job));
  }
  running = false;
}

async function takeBlock(): Promise<number> {
  while (freeBlocks.length === 0) await new Promise<void>((resolve) => (blockFreed = resolve));
  blockFreed = undefined;
  return freeBlocks.pop()!;
}

function postBlock(packId: string, s: PackStream): void {
  const m: BlockMessage = { t: 'block', packId, block: s.block, bytes: s.fill };
  parentPort!.postMessage(m);
  s.block = -1;
  s.fill = 0;
}

/** Appends bytes to the pack stream: hashed, copied into blocks, each full block handed to the main thread. */
async function append(packId: string, s: PackStream, bytes: Buffer): Promise<void> {
  s.hash.update(bytes);
  for (let at = 0; at < bytes.length; ) {
    if (s.block < 0) s.block = await takeBlock();
    const n = Math.min(bytes.length - at, init.blockBytes - s.fill);
    bytes.copy(ring, s.block * init.blockBytes + s.fill, at, at + n);
    s.fill += n;
    at += n;
    if (s.fill === init.blockBytes) postBlock(packId, s);
  }
}

function streamOf(packId: string): PackStream {
  let s = packs.get(packId);
  if (!s) packs.set(packId, (s = { hash: createHash('sha256'), block: -1, fill: 0 }));
  return s;
}

/** Seals the requested chunks of the oldest posted window into its pack, then frees the window's buffer. */
async function seal(req: SealRequest): Promise<void> {
  const w = posted.shift()!;
  if (w.job !== req.job || w.window !== req.window) throw new Error(`seal request for ${req.job}/${req.window} while ${w.job}/${w.window} waits`);
  const lengths = new Int32Array(req.want.length);
  if (req.want.length > 0) {
    const key = Buffer.from(req.packKey);
    const s = streamOf(req.packId);
    for (let j = 0; j < req.want.length; j++) {
      const c = w.chunks[req.want[j]!]!;
      for (const piece of sealChunkPieces(key, w.ids[req.want[j]!]!, w.buf.subarray(c.offset, c.offset + c.length))) {
        await append(req.packId, s, piece);
        lengths[j] = lengths[j]! + piece.length;
      }
    }
  }
  const msg: SealedMessage = { t: 'sealed', job: req.job, window: req.window, lengths };
  parentPort!.postMessage(msg, [lengths.buffer]);
  freeBuffers.push(w.buf);
  bufferFreed?.();
}

async function finish(req: FinishRequest): Promise<void> {
  const s = streamOf(req.packId);
  await append(req.packId, s, Buffer.from(req.tail));
  if (s.fill > 0) postBlock(req.packId, s);
  packs.delete(req.packId);
  const m: FinishedMessage = { t: 'finished', packId: req.packId, sha256: s.hash.digest() };
  parentPort!.postMessage(m);
}

/** A free read buffer; while none is, seal requests run (they free buffers). */
async function takeBuffer(): Promise<Buffer> {
  while (freeBuffers.length === 0) await new Promise<void>((resolve) => (bufferFreed = resolve));
  bufferFreed = undefined;
  return freeBuffers.pop()!;
}

async function runJob(job: JobMessage): Promise<void> {
  let buf = await takeBuffer();
  let fill = 0;
  let window = 0;
  let chunks: Emitted[] = [];
  let chunkIds: Buffer[] = [];
  let ended: WindowMessage['ended'] = [];

  /** Posts the window, moves the unchunked tail [pos, fill) into a fresh buffer; returns the new pos. */
  const flush = async (pos: number, last: boolean): Promise<number> => {
    const n = chunks.length;
    const idBytes = Buffer.allocUnsafeSlow(n * 32); // not pooled: its ArrayBuffer is transferred
    const lengths = new Int32Array(n);
    const files = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      chunkIds[i]!.copy(idBytes, i * 32);
      lengths[i] = chunks[i]!.length;
      files[i] = chunks[i]!.file;
    }
    const w: WindowMessage = { t: 'window', job: job.job, window, ids: idBytes, lengths, files, ended, last };
    parentPort!.postMessage(w, [idBytes.buffer as ArrayBuffer, lengths.buffer, files.buffer]);
    posted.push({ job: job.job, window, buf, chunks, ids: chunkIds });
    window++;
    chunks = [];
    chunkIds = [];
    ended = [];
    // Let seal requests that already arrived run before the next window is read.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (last) return 0;
    const next = await takeBuffer();
    buf.copy(next, 0, pos, fill);
    buf = next;
    fill -= pos;
    return 0;
  };

  for (let f = 0; f < job.files.length; f++) {
    const file: JobFile = job.files[f]!;
    let fd: number | undefined;
    let inline = file.data ? Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength) : undefined;
    let inlinePos = 0;
    let pos = fill;
    let size = 0;
    let eof = false;
    try {
      if (!inline) fd = openSync(file.path!, 'r');
      while (true) {
        // Cut what the buffer holds; an undecidable last piece waits for more data.
        while (pos < fill) {
          const len = eof ? chunker.cut(buf, pos, fill, true) : chunker.tryCut(buf, pos, fill);
          if (len === 0) break;
          chunks.push({ file: f, offset: pos, length: len });
          chunkIds.push(chunkId(chunkIdKey, buf.subarray(pos, pos + len)));
          pos += len;
        }
        if (eof) break;
        // A full buffer becomes a window; only the uncut tail (less than maxBytes) is copied on.
        if (capacity - fill < MIN_READ) pos = await flush(pos, false);
        let n: number;
        if (inline) {
          n = Math.min(capacity - fill, inline.length - inlinePos);
          inline.copy(buf, fill, inlinePos, inlinePos + n);
          inlinePos += n;
        } else n = readSync(fd!, buf, fill, capacity - fill, null);
        if (n === 0) eof = true;
        else {
          fill += n;
          size += n;
        }
      }
      ended.push({ file: f, size });
    } catch (e) {
      ended.push({ file: f, size, error: describe(e) });
      fill = pos; // drop what was read of this file but not yet cut
    } finally {
      if (fd !== undefined) closeSync(fd);
      inline = undefined;
    }
  }
  await flush(fill, true);
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return 'permission denied';
  if (err?.code === 'ENOENT') return 'vanished during backup';
  if (err?.code === 'EISDIR') return 'is a directory';
  return err?.code ?? String(err?.message ?? e);
}
