/** Messages between a restore's main thread and its pack-opening workers (no secrets logged). */
export interface OpenWorkerInit {
  chunkIdKey: Uint8Array;
}

/** One downloaded range of a pack and where its wanted chunks are in it. */
export interface OpenRequest {
  job: number;
  packId: string;
  packKey: Uint8Array;
  range: Uint8Array;
  /** chunk IDs, 32 bytes each */
  ids: Uint8Array;
  offsets: Int32Array;
  lengths: Int32Array;
}

/** The plaintexts one after another in `data`; `lengths[i]` is -1 for a chunk that failed (`errors[i]`). */
export interface OpenedMessage {
  job: number;
  data: ArrayBuffer;
  lengths: Int32Array;
  errors: (string | null)[];
}
