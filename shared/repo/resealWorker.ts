/**
 * Worker thread of prune's repack: re-seals one new pack's chunks (reseal.ts) beside the main
 * thread's downloads and uploads, and moves the stream back without a copy.
 */
import { parentPort } from 'node:worker_threads';
import { isBackupError } from '../errors';
import { resealPack } from './reseal';
import type { ResealReply, ResealRequest } from './resealProtocol';

parentPort!.on('message', (req: ResealRequest) => {
  let reply: ResealReply;
  try {
    const { stream, tail, sha256 } = resealPack(req);
    reply = { job: req.job, stream, tail, sha256 };
    parentPort!.postMessage(reply, [stream.buffer as ArrayBuffer]);
  } catch (e) {
    if (!isBackupError(e)) throw e;
    reply = { job: req.job, error: e.message };
    parentPort!.postMessage(reply);
  }
});
