import type { ChunkerParams } from './repository';

/** Messages between the main thread and chunk workers (structured-clone payloads, no secrets logged). */
export interface WorkerInit {
  gearKey: Uint8Array;
  chunkIdKey: Uint8Array;
  chunker: ChunkerParams;
  windowBytes: number;
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

export interface SealRequest {
  t: 'seal';
  job: number;
  window: number;
  packKey: Uint8Array;
  /** indices of the window's chunks to seal (the new ones) */
  want: number[];
}

/**
 * Sealed chunks in `want` order, as segments: `segments` holds (source, length) pairs in stream order,
 * source 1 = the next buffer of `parts` (moved, not copied), 0 = the next bytes of `small`;
 * `counts[j]` is how many segments make up chunk j.
 */
export interface SealedMessage {
  t: 'sealed';
  job: number;
  window: number;
  parts: ArrayBuffer[];
  small?: ArrayBuffer;
  segments: Int32Array;
  counts: Int32Array;
}

export interface FatalMessage {
  t: 'fatal';
  job: number;
  message: string;
}
