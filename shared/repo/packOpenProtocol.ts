import type { ChunkTarget, TargetFailure } from './chunkTargets';

/** Messages between a restore's main thread and its pack-opening workers (no secrets logged). */
export interface OpenWorkerInit {
  chunkIdKey: Uint8Array;
}

/** One downloaded range of a pack and where its wanted chunks are in it. */
export interface OpenRequest {
  job: number;
  packId: string;
  packKey: Uint8Array;
  /** Moved to the worker (its own memory), not copied. */
  range: Uint8Array;
  /** chunk IDs, 32 bytes each */
  ids: Uint8Array;
  offsets: Int32Array;
  lengths: Int32Array;
  /** The index's plaintext length of each chunk (a size hint for inflating). */
  rawLengths: Int32Array;
  /** When given, the worker writes chunk i to `targets[i]` and returns no plaintext. */
  targets?: ChunkTarget[][];
}

/**
 * The plaintexts where the worker produced them: chunk i is `lengths[i]` bytes at `offsets[i]` of
 * `buffers[i]` (moved, not copied; several chunks may share one buffer). `buffers[i]` is null and
 * `lengths[i]` -1 for a chunk that failed (`errors[i]`).
 */
export interface OpenedMessage {
  job: number;
  buffers: (ArrayBuffer | null)[];
  offsets: Int32Array;
  lengths: Int32Array;
  errors: (string | null)[];
  /** For a request with targets: the targets of chunk i the file system refused. */
  writeFailures?: TargetFailure[][];
}
