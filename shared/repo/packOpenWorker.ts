/**
 * Worker thread of a restore: opens (AES-GCM), decompresses and checks (keyed ID) the chunks of one
 * downloaded pack range, so the CPU work of a restore runs beside the main thread's downloads and
 * writes. The plaintexts go back in the buffers the cipher (or inflate) wrote them into, moved
 * rather than copied; only chunks whose buffer cannot move are copied into one shared buffer. A
 * chunk that fails fails alone. Given targets, the worker writes the plaintexts into the restored
 * files itself and sends back only what failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isBackupError } from '../errors';
import { openChunkChecked } from './chunkOpen';
import { writeTargets } from './chunkTargets';
import type { OpenedMessage, OpenRequest, OpenWorkerInit } from './packOpenProtocol';

const chunkIdKey = Buffer.from((workerData as OpenWorkerInit).chunkIdKey);

/**
 * Whether a plaintext's memory may move to the main thread: larger than Node's shared allocation
 * pool (so it is not the pool, which must never move) and mostly this chunk (so little is carried along).
 */
const movable = (b: Buffer) => b.buffer.byteLength > Buffer.poolSize && b.byteLength * 2 >= b.buffer.byteLength;

parentPort!.on('message', (req: OpenRequest) => void handle(req));

async function handle(req: OpenRequest): Promise<void> {
  // Views, not copies: the range and the key arrived as moved or cloned memory of their own.
  const range = Buffer.from(req.range.buffer, req.range.byteOffset, req.range.byteLength);
  const key = Buffer.from(req.packKey.buffer, req.packKey.byteOffset, req.packKey.byteLength);
  const n = req.offsets.length;
  const opened: (Buffer | string)[] = [];
  for (let i = 0; i < n; i++) {
    const id = req.ids.subarray(i * 32, i * 32 + 32);
    try {
      opened.push(openChunkChecked(key, chunkIdKey, id, range.subarray(req.offsets[i]!, req.offsets[i]! + req.lengths[i]!), req.packId, req.rawLengths[i]));
    } catch (e) {
      if (!isBackupError(e)) throw e;
      opened.push(e.message);
    }
  }
  if (req.targets) {
    const writeFailures = await writeTargets(opened, req.targets);
    const lengths = Int32Array.from(opened, (d) => (typeof d === 'string' ? -1 : d.length));
    const errors = opened.map((d) => (typeof d === 'string' ? d : null));
    const msg: OpenedMessage = { job: req.job, buffers: new Array(n).fill(null), offsets: new Int32Array(n), lengths, errors, writeFailures };
    return parentPort!.postMessage(msg);
  }
  const buffers: (ArrayBuffer | null)[] = new Array(n).fill(null);
  const offsets = new Int32Array(n);
  const lengths = new Int32Array(n);
  const errors: (string | null)[] = new Array(n).fill(null);
  const moved = new Set<ArrayBuffer>();
  const copied: number[] = [];
  let copiedBytes = 0;
  opened.forEach((d, i) => {
    if (typeof d === 'string') {
      lengths[i] = -1;
      errors[i] = d;
      return;
    }
    lengths[i] = d.length;
    const ab = d.buffer as ArrayBuffer;
    if (movable(d) && !moved.has(ab)) {
      moved.add(ab);
      buffers[i] = ab;
      offsets[i] = d.byteOffset;
    } else {
      copied.push(i);
      copiedBytes += d.length;
    }
  });
  if (copied.length > 0) {
    const shared = Buffer.allocUnsafeSlow(copiedBytes);
    let at = 0;
    for (const i of copied) {
      const d = opened[i] as Buffer;
      d.copy(shared, at);
      buffers[i] = shared.buffer as ArrayBuffer;
      offsets[i] = at;
      at += d.length;
    }
    moved.add(shared.buffer as ArrayBuffer);
  }
  const msg: OpenedMessage = { job: req.job, buffers, offsets, lengths, errors };
  parentPort!.postMessage(msg, [...moved]);
}
