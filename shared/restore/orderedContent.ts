import { ChunkReader, type ChunkLocation } from '../repo';
import { missingChunk } from './chunkFetcher';

/** What `orderedContent` yields, file by file in order: its bytes in pieces, a failure, its end. */
export type ContentEvent = { t: 'data'; file: number; data: Buffer } | { t: 'fail'; file: number; reason: string } | { t: 'end'; file: number };

interface Window {
  occurrences: { file: number; hex: string }[];
  /** Files that end in this window (in order, with files that have no chunks). */
  ends: Map<number, number>;
}

const WINDOW = 32 * 1024 * 1024;

/**
 * The content of files in their order, for writers that must emit it in order (a zip): the chunks
 * are read in windows of about 32 MiB (parallel ranged reads, opened on worker threads), the next
 * window read while the current one is handed out, so memory stays near two windows whatever the
 * size of the restore. A chunk that is missing or damaged fails its file (`fail`, possibly after
 * some of its data); every file ends with `end`.
 */
export async function* orderedContent(reader: ChunkReader, files: readonly Buffer[], locations: Map<string, ChunkLocation>, windowBytes = WINDOW): AsyncGenerator<ContentEvent> {
  const windows: Window[] = [];
  const missing = new Map<number, string>();
  let cur: Window = { occurrences: [], ends: new Map() };
  let bytes = 0;
  files.forEach((ids, file) => {
    for (let i = 0; i < ids.length; i += 32) {
      const hex = ids.toString('hex', i, i + 32);
      const loc = locations.get(hex);
      if (!loc) {
        missing.set(file, missingChunk(hex));
        break;
      }
      cur.occurrences.push({ file, hex });
      bytes += loc.rawLength;
      if (bytes >= windowBytes && i + 32 < ids.length) {
        windows.push(cur);
        cur = { occurrences: [], ends: new Map() };
        bytes = 0;
      }
    }
    cur.ends.set(file, cur.occurrences.length);
    if (bytes >= windowBytes) {
      windows.push(cur);
      cur = { occurrences: [], ends: new Map() };
      bytes = 0;
    }
  });
  windows.push(cur);

  const fetchWindow = async (w: Window): Promise<Map<string, Buffer | string>> => {
    const got = new Map<string, Buffer | string>();
    const needs = [...new Set(w.occurrences.map((o) => o.hex))].map((hex) => ({ id: Buffer.from(hex, 'hex'), loc: locations.get(hex)! }));
    await reader.readChunks(
      needs,
      (id, data) => void got.set(id.toString('hex'), data),
      (_pack, ids, reason) => ids.forEach((id) => got.set(id.toString('hex'), reason)),
      { keepWorkers: true },
    );
    return got;
  };

  const failed = new Set<number>();
  try {
    let next = fetchWindow(windows[0]!);
    for (let k = 0; k < windows.length; k++) {
      const w = windows[k]!;
      const got = await next;
      if (k + 1 < windows.length) {
        next = fetchWindow(windows[k + 1]!);
        next.catch(() => undefined); // awaited on the next turn
      }
      // Files end in order: walk occurrences and emit ends when a file's last occurrence is passed.
      const ends = [...w.ends];
      let e = 0;
      const flushEnds = function* (upTo: number): Generator<ContentEvent> {
        while (e < ends.length && ends[e]![1] <= upTo) {
          const file = ends[e++]![0];
          if (missing.has(file) && !failed.has(file)) {
            failed.add(file);
            yield { t: 'fail', file, reason: missing.get(file)! };
          }
          yield { t: 'end', file };
        }
      };
      for (let i = 0; i < w.occurrences.length; i++) {
        yield* flushEnds(i);
        const { file, hex } = w.occurrences[i]!;
        if (missing.has(file) && !failed.has(file)) {
          failed.add(file);
          yield { t: 'fail', file, reason: missing.get(file)! };
        }
        if (failed.has(file)) continue;
        const v = got.get(hex);
        if (v === undefined || typeof v === 'string') {
          failed.add(file);
          yield { t: 'fail', file, reason: v ?? missingChunk(hex) };
        } else yield { t: 'data', file, data: v };
      }
      yield* flushEnds(w.occurrences.length);
    }
  } finally {
    await reader.close();
  }
}
