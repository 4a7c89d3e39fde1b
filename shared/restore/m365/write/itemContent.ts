import { ChunkReader, type ChunkLocation } from '../../../repo';
import { missingChunk } from '../../chunkFetcher';
import { chunkHexes } from '../tenantPlan';

/** Raw bytes of chunks read at once for one item's stream (chunks are <= 8 MiB each). */
export const CONTENT_WINDOW_BYTES = 8 * 1024 * 1024;
const WINDOW = CONTENT_WINDOW_BYTES;

/**
 * One item's content streamed from the repository in order: its chunks read window by window
 * (ranged reads, opened and checked on the reader's workers), so a large file is never whole in
 * memory nor in a temporary file. A missing or damaged chunk ends the stream with an error.
 */
export async function* itemContent(reader: ChunkReader, chunks: string, locations: Map<string, ChunkLocation>): AsyncGenerator<Buffer> {
  const hexes = chunkHexes(chunks);
  for (let i = 0; i < hexes.length; ) {
    const window: string[] = [];
    let bytes = 0;
    while (i < hexes.length && (window.length === 0 || bytes + (locations.get(hexes[i]!)?.rawLength ?? 0) <= WINDOW)) {
      const hex = hexes[i++]!;
      if (!locations.has(hex)) throw new Error(missingChunk(hex));
      window.push(hex);
      bytes += locations.get(hex)!.rawLength;
    }
    const got = new Map<string, Buffer>();
    let failure: string | undefined;
    await reader.readChunks(
      [...new Set(window)].map((hex) => ({ id: Buffer.from(hex, 'hex'), loc: locations.get(hex)! })),
      (id, data) => void got.set(id.toString('hex'), data),
      (_pack, _ids, reason) => void (failure ??= reason),
      { keepWorkers: true, memoryBytes: 3 * WINDOW },
    );
    if (failure) throw new Error(failure);
    for (const hex of window) yield got.get(hex)!;
  }
}

/** The whole content of a small item (mail MIME, a contact's JSON). */
export async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of stream) parts.push(b);
  return Buffer.concat(parts);
}
