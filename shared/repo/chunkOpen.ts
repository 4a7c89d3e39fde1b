import { BackupError } from '../errors';
import { chunkId, openChunk } from './chunkCodec';
import { timingSafeEqual } from 'node:crypto';

/** Opens one sealed chunk and checks it is the chunk its ID names; a failure is an INTEGRITY error naming the pack. */
export function openChunkChecked(packKey: Uint8Array, chunkIdKey: Uint8Array, id: Uint8Array, sealed: Uint8Array, packId: string, rawLength?: number): Buffer {
  const data = openChunk(packKey, id, sealed, `chunk ${Buffer.from(id).toString('hex').slice(0, 16)}… in pack ${packId}`, rawLength);
  const actual = chunkId(chunkIdKey, data);
  if (actual.length !== id.length || !timingSafeEqual(actual, id)) throw new BackupError('INTEGRITY', `A chunk in pack ${packId} does not match its ID.`);
  return data;
}
