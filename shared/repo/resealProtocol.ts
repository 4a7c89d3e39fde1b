/** Messages between prune's repack and its re-sealing workers (keys travel only in memory, never logged). */

/** One new pack's worth of live chunks to move from their old packs' keys to the new pack's key. */
export interface ResealRequest {
  job: number;
  /** The new pack: its ID, key and sealed key (its tail is made where the chunks are sealed). */
  packId: string;
  packKey: Uint8Array;
  sealedKey: Uint8Array;
  /** The old packs' keys; chunk i was sealed with `oldKeys[keyOf[i]]`. */
  oldKeys: Uint8Array[];
  keyOf: Int32Array;
  /** chunk IDs, 32 bytes each */
  ids: Uint8Array;
  lengths: Int32Array;
  rawLengths: Int32Array;
  /** The sealed chunks back to back, in the new pack's order (moved, not copied); re-sealed in place. */
  stream: Uint8Array;
}

/** The new pack's stream (the request's buffer, moved back), its tail and the SHA-256 of both; or why a chunk could not be opened. */
export type ResealReply = { job: number; stream: Uint8Array; tail: Uint8Array; sha256: Uint8Array } | { job: number; error: string };
