import type { ChunkerParams } from './repository';

/**
 * Messages between the main thread and a chunk worker (structured-clone payloads, no secrets logged).
 *
 * main → worker: job, seal (after a window), finish (a pack's tail), free (an uploaded block).
 * worker → main: window (chunk IDs), block (pack bytes ready to upload), sealed, finished, fatal.
 *
 * Pack bytes never cross as messages: the worker appends each sealed chunk to its pack's current
 * block in `ring` (shared memory, `blockBytes` per block), hashes the pack stream as it goes, and
 * names a block when it is full; the main thread uploads a view of it and frees it afterwards.
 */
export interface WorkerInit {
  gearKey: Uint8Array;
  chunkIdKey: Uint8Array;
  chunker: ChunkerParams;
  windowBytes: number;
  ring: SharedArrayBuffer;
  blockBytes: number;
}

/** One content source: a file path read by the worker, or bytes handed over. */
export interface JobFile {
  path?: string;
  data?: Uint8Array;
}

export interface JobMessage {
  t: 'job';
  job: number;
  files: JobFile[];
}

export interface WindowMessage {
  t: 'window';
  job: number;
  window: number;
  /** chunk IDs, 32 bytes each, in content order */
  ids: Uint8Array;
  lengths: Int32Array;
  /** index into the job's files, per chunk */
  files: Int32Array;
  /** files whose content ended in this window */
  ended: { file: number; size: number; error?: string }[];
  last: boolean;
}

/** Seal these chunks of the window (the new ones) and append them to pack `packId`. */
export interface SealRequest {
  t: 'seal';
  job: number;
  window: number;
  packId: string;
  packKey: Uint8Array;
  /** indices of the window's chunks to seal */
  want: number[];
}

/** The sealed lengths of a window's wanted chunks, in `want` order (their bytes went into blocks). */
export interface SealedMessage {
  t: 'sealed';
  job: number;
  window: number;
  lengths: Int32Array;
}

/** Bytes [block * blockBytes, + bytes) of the ring are the next block of pack `packId`. */
export interface BlockMessage {
  t: 'block';
  packId: string;
  block: number;
  bytes: number;
}

/** A block the main thread has uploaded: the worker may reuse it. */
export interface FreeMessage {
  t: 'free';
  block: number;
}

/** Append the pack's tail (header, sealed key, trailer), send its last block, and say its SHA-256. */
export interface FinishRequest {
  t: 'finish';
  packId: string;
  tail: Uint8Array;
}

export interface FinishedMessage {
  t: 'finished';
  packId: string;
  sha256: Uint8Array;
}

export interface FatalMessage {
  t: 'fatal';
  job: number;
  message: string;
}

export type ToWorker = JobMessage | SealRequest | FinishRequest | FreeMessage;
export type FromWorker = WindowMessage | SealedMessage | BlockMessage | FinishedMessage | FatalMessage;
