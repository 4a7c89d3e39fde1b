import { open } from 'node:fs/promises';
import type { PrivateKey } from '../crypto';
import { BackupError, isBackupError } from '../errors';
import { ChunkReader, chunkMatches, type ChunkLocation, type Repository } from '../repo';

export interface FetchResult {
  /** Chunks not in the index at all. */
  missing: Set<string>;
  locations: Map<string, ChunkLocation>;
}

/**
 * Reads every wanted chunk once, pack by pack in merged ranges, checks each against its keyed ID
 * and hands it to `onChunk`. A damaged or unreadable pack is reported with the chunks it held and
 * the rest continues, so one bad pack fails only the items that need it.
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
): Promise<FetchResult> {
  const reader = new ChunkReader(repo, privateKey);
  const locations = known ? new Map([...wanted].flatMap((h) => (known.has(h) ? [[h, known.get(h)!] as const] : []))) : await reader.locate(wanted);
  await onLocated?.(locations);
  const missing = new Set([...wanted].filter((h) => !locations.has(h)));
  const byPack = new Map<string, { id: Buffer; loc: ChunkLocation }[]>();
  for (const [hex, loc] of locations) {
    let list = byPack.get(loc.packId);
    if (!list) byPack.set(loc.packId, (list = []));
    list.push({ id: Buffer.from(hex, 'hex'), loc });
  }
  for (const [packId, needs] of byPack) {
    try {
      await reader.readFromPack(packId, needs, async (id, data) => {
        if (!chunkMatches(repo, id, data)) throw new BackupError('INTEGRITY', `A chunk in pack ${packId} does not match its ID.`);
        await onChunk(id.toString('hex'), data);
      });
    } catch (e) {
      if (!isBackupError(e)) throw e;
      onPackFailure(
        packId,
        needs.map((n) => n.id.toString('hex')),
        e.message,
      );
    }
  }
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

/** Writes one chunk's bytes at its position in an existing file. */
export async function writeAt(path: string, data: Buffer, position: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(data, 0, data.length, position);
  } finally {
    await fh.close();
  }
}
