/**
 * Worker thread of a restore: opens (AES-GCM), decompresses and checks (keyed ID) the chunks of one
 * downloaded pack range, so the CPU work of a restore runs beside the main thread's downloads and
 * writes. The plaintexts go back in one moved buffer; a chunk that fails fails alone.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isBackupError } from '../errors';
import { openChunkChecked } from './chunkOpen';
import type { OpenedMessage, OpenRequest, OpenWorkerInit } from './packOpenProtocol';

const chunkIdKey = Buffer.from((workerData as OpenWorkerInit).chunkIdKey);

parentPort!.on('message', (req: OpenRequest) => {
  const range = Buffer.from(req.range);
  const key = Buffer.from(req.packKey);
  const opened: (Buffer | string)[] = [];
  let total = 0;
  for (let i = 0; i < req.offsets.length; i++) {
    const id = req.ids.subarray(i * 32, i * 32 + 32);
    try {
      const data = openChunkChecked(key, chunkIdKey, id, range.subarray(req.offsets[i]!, req.offsets[i]! + req.lengths[i]!), req.packId);
      opened.push(data);
      total += data.length;
    } catch (e) {
      if (!isBackupError(e)) throw e;
      opened.push(e.message);
    }
  }
  const out = Buffer.allocUnsafeSlow(total);
  const lengths = new Int32Array(opened.length);
  const errors: (string | null)[] = [];
  let at = 0;
  opened.forEach((d, i) => {
    if (typeof d === 'string') {
      lengths[i] = -1;
      errors.push(d);
      return;
    }
    d.copy(out, at);
    at += d.length;
    lengths[i] = d.length;
    errors.push(null);
  });
  const msg: OpenedMessage = { job: req.job, data: out.buffer as ArrayBuffer, lengths, errors };
  parentPort!.postMessage(msg, [out.buffer as ArrayBuffer]);
});
