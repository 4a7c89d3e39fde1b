/**
 * Worker thread of a browse read: checks the row MACs of item versions and opens their sealed
 * metadata (AES-GCM, JSON), the CPU side of reading a mailbox's history, beside the main thread's
 * Table queries. The keys arrive with each batch and live only in this thread's memory.
 */
import { parentPort } from 'node:worker_threads';
import { decodeGroup } from './rowDecode';
import type { DecodeRequest, DecodeResult } from './rowDecodeProtocol';

parentPort!.on('message', (req: DecodeRequest) => {
  let reply: DecodeResult;
  try {
    const macKey = Buffer.from(req.macKey);
    const runKeys = new Map(req.runKeys.map(([id, k]) => [id, Buffer.from(k)]));
    reply = { job: req.job, out: req.groups.map((g) => decodeGroup(macKey, req.table, g, runKeys)) };
  } catch (e) {
    reply = { job: req.job, out: [], error: String((e as Error)?.message ?? e) };
  }
  parentPort!.postMessage(reply);
});
