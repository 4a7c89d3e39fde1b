import type { PrivateKey } from '../crypto';
import { ChunkReader, type ChunkLocation, type ParallelReadOptions, type Repository } from '../repo';

export interface FetchResult {
  /** Chunks not in the index at all. */
  missing: Set<string>;
  locations: Map<string, ChunkLocation>;
}

/**
 * Reads every wanted chunk once, in parallel ranged reads of runs of chunks, opened and checked
 * against their keyed IDs on worker threads, and hands each to `onChunk` (concurrently for chunks
 * of different ranges; memory stays bounded because a range is held until its `onChunk` calls end).
 * A damaged chunk, or a pack range that cannot be read, is reported with the chunks it held and the
 * rest continues, so damage fails only the items that need it.
 */
export async function fetchChunks(
  repo: Repository,
  privateKey: PrivateKey,
  wanted: Set<string>,
  onChunk: (hex: string, data: Buffer) => Promise<void> | void,
  onPackFailure: (packId: string, chunks: string[], reason: string) => void,
  /** Called once the chunks are located, before any is read (to plan positions). */
  onLocated?: (locations: Map<string, ChunkLocation>) => Promise<void> | void,
  /** Locations found before (a stored restore plan): the index is not asked again. */
  known?: Map<string, ChunkLocation>,
  options?: ParallelReadOptions,
): Promise<FetchResult> {
  const reader = new ChunkReader(repo, privateKey);
  const locations = known ? new Map([...wanted].flatMap((h) => (known.has(h) ? [[h, known.get(h)!] as const] : []))) : await reader.locate(wanted);
  await onLocated?.(locations);
  const missing = new Set([...wanted].filter((h) => !locations.has(h)));
  const needs = [...locations].map(([hex, loc]) => ({ id: Buffer.from(hex, 'hex'), loc }));
  await reader.readChunks(
    needs,
    (id, data) => onChunk(id.toString('hex'), data),
    (packId, ids, reason) =>
      onPackFailure(
        packId,
        ids.map((id) => id.toString('hex')),
        reason,
      ),
    options,
  );
  return { missing, locations };
}

/**
 * Walks an item's chunks in content order with each one's index and byte position in the item.
 * Returns the first chunk that is not in the index (the walk stops there), or undefined.
 */
export function forEachChunkPosition(chunkIds: Buffer, locations: Map<string, ChunkLocation>, visit: (hex: string, index: number, position: number) => void): string | undefined {
  let position = 0;
  for (let i = 0, index = 0; i < chunkIds.length; i += 32, index++) {
    const hex = chunkIds.toString('hex', i, i + 32);
    const loc = locations.get(hex);
    if (!loc) return hex;
    visit(hex, index, position);
    position += loc.rawLength;
  }
  return undefined;
}

/** A chunk's target: where in which output it goes. */
export function addTarget<T>(targets: Map<string, T[]>, hex: string, t: T): void {
  let list = targets.get(hex);
  if (!list) targets.set(hex, (list = []));
  list.push(t);
}

export const missingChunk = (hex: string) => `chunk ${hex.slice(0, 16)}… is missing from the index`;
