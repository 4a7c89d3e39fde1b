import type { StoredRow } from '../storage';

/** A batch of item versions to check and open: each its head row and continuation rows, with the keys that open them. */
export interface DecodeRequest {
  job: number;
  table: string;
  macKey: Uint8Array;
  /** The partition's run keys, [id, key]. */
  runKeys: [string, Uint8Array][];
  groups: StoredRow[][];
}

/** A decoded version as it crosses threads (chunk IDs arrive as a plain Uint8Array). */
export interface DecodedVersion {
  itemToken: string;
  changeToken: string;
  groupToken?: string;
  from: number;
  to: number;
  meta: Record<string, unknown>;
  chunkIds: Uint8Array;
}

/** Per group: the version, or the damaged row's name and why (an INTEGRITY message); `error`: anything else, which fails the read. */
export interface DecodeResult {
  job: number;
  out: (DecodedVersion | { row: string; reason: string })[];
  error?: string;
}
