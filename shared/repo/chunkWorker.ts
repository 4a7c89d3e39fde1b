/**
 * Worker thread: reads content, cuts it with FastCDC, computes keyed chunk IDs, and seals the chunks
 * the main thread asks for. The CPU stages live here so two cores work in parallel; the main thread
 * only deduplicates, assembles packs and talks to storage.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { closeSync, openSync, readSync } from 'node:fs';
import { Chunker } from './chunker';
import { chunkId, sealChunkPieces } from './chunkCodec';
import type { JobFile, SealRequest, WindowMessage, WorkerInit, SealedMessage, JobMessage } from './workerProtocol';

const init = workerData as WorkerInit;
const chunker = new Chunker(Buffer.from(init.gearKey), init.chunker);
const chunkIdKey = Buffer.from(init.chunkIdKey);
const capacity = init.windowBytes + chunker.maxBytes;
const buf = Buffer.allocUnsafeSlow(capacity);
const MIN_READ = 1024 * 1024;

let pendingSeal: ((req: SealRequest) => void) | undefined;

parentPort!.on('message', (msg: JobMessage | SealRequest) => {
  if (msg.t === 'seal') {
    const resolve = pendingSeal;
    pendingSeal = undefined;
    resolve?.(msg);
  } else {
    runJob(msg).catch((e: unknown) => parentPort!.postMessage({ t: 'fatal', job: msg.job, message: String((e as Error)?.message ?? e) }));
  }
});

interface Emitted {
  file: number;
  offset: number;
  length: number;
  id: Buffer;
}

async function runJob(job: JobMessage): Promise<void> {
  let fill = 0;
  let window = 0;
  let chunks: Emitted[] = [];
  let windowBytes = 0;
  let ended: WindowMessage['ended'] = [];

  const flush = async (last: boolean) => {
    const ids = Buffer.allocUnsafe(chunks.length * 32);
    const lengths = new Int32Array(chunks.length);
    const files = new Int32Array(chunks.length);
    chunks.forEach((c, i) => {
      c.id.copy(ids, i * 32);
      lengths[i] = c.length;
      files[i] = c.file;
    });
    const w: WindowMessage = { t: 'window', job: job.job, window, ids, lengths, files, ended, last };
    const reply = await new Promise<SealRequest>((resolve) => {
      pendingSeal = resolve;
      parentPort!.postMessage(w);
    });
    const want = reply.want;
    const key = Buffer.from(reply.packKey);
    const pieces: Buffer[][] = want.map((i) => {
      const c = chunks[i]!;
      return sealChunkPieces(key, c.id, buf.subarray(c.offset, c.offset + c.length));
    });
    // Large ciphertext pieces own their ArrayBuffer and move to the main thread without a copy;
    // small ones (nonce, tag, pooled buffers) are copied into one buffer.
    const movable = (b: Buffer) => b.length >= 64 * 1024 && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
    let smallBytes = 0;
    for (const list of pieces) for (const b of list) if (!movable(b)) smallBytes += b.length;
    const small = smallBytes > 0 ? Buffer.allocUnsafeSlow(smallBytes) : undefined;
    const parts: ArrayBuffer[] = [];
    const segments: number[] = [];
    const counts = new Int32Array(pieces.length);
    let p = 0;
    pieces.forEach((list, j) => {
      counts[j] = list.length;
      for (const b of list) {
        if (movable(b)) {
          parts.push(b.buffer as ArrayBuffer);
          segments.push(1, b.length);
        } else {
          b.copy(small!, p);
          p += b.length;
          segments.push(0, b.length);
        }
      }
    });
    const transfer = small ? [...parts, small.buffer as ArrayBuffer] : parts;
    const msg: SealedMessage = { t: 'sealed', job: job.job, window, parts, small: small?.buffer as ArrayBuffer | undefined, segments: Int32Array.from(segments), counts };
    parentPort!.postMessage(msg, transfer);
    window++;
    chunks = [];
    windowBytes = 0;
    ended = [];
  };

  const compact = (pos: number): number => {
    buf.copy(buf, 0, pos, fill);
    fill -= pos;
    return 0;
  };

  for (let f = 0; f < job.files.length; f++) {
    const file: JobFile = job.files[f]!;
    let fd: number | undefined;
    let inline = file.data ? Buffer.from(file.data) : undefined;
    let inlinePos = 0;
    let pos = fill;
    let size = 0;
    let eof = false;
    try {
      if (!inline) fd = openSync(file.path!, 'r');
      while (true) {
        while (!eof && fill - pos < chunker.maxBytes) {
          if (capacity - fill < MIN_READ) {
            await flush(false);
            pos = compact(pos);
          }
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
        if (pos === fill && eof) break;
        const len = chunker.cut(buf, pos, fill, eof);
        chunks.push({ file: f, offset: pos, length: len, id: chunkId(chunkIdKey, buf.subarray(pos, pos + len)) });
        windowBytes += len;
        pos += len;
        if (windowBytes >= init.windowBytes) {
          await flush(false);
          pos = compact(pos);
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
  await flush(true);
  fill = 0;
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return 'permission denied';
  if (err?.code === 'ENOENT') return 'vanished during backup';
  if (err?.code === 'EISDIR') return 'is a directory';
  return err?.code ?? String(err?.message ?? e);
}
