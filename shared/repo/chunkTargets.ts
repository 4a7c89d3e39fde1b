import { open, type FileHandle } from 'node:fs/promises';

/** Where an opened chunk's plaintext goes: a byte position in a file being restored. */
export interface ChunkTarget {
  path: string;
  position: number;
  /** The file is this one chunk: it is created (or truncated) and written whole; others exist already. */
  whole: boolean;
}

/** A target the file system refused (the errno code, or the message). */
export interface TargetFailure {
  path: string;
  reason: string;
}

const reasonOf = (e: unknown) => (e as NodeJS.ErrnoException)?.code ?? String((e as Error)?.message ?? e);

async function writeAll(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let done = 0; done < data.length; ) done += (await fh.write(data, done, data.length - done, position + done)).bytesWritten;
}

/**
 * Writes the plaintexts of one pack range into their files where they were opened (a worker
 * thread), so they never travel back to the main thread: each file is opened once for the range,
 * written at its positions straight from the plaintext, closed after its last write. The writes
 * run on libuv's pool, so the worker opens the next range meanwhile. What the file system refuses
 * fails that target only. `chunks[i]` is a plaintext or why it could not be opened (skipped).
 */
export async function writeTargets(chunks: readonly (Buffer | string)[], targets: readonly (readonly ChunkTarget[])[]): Promise<TargetFailure[][]> {
  const failures: TargetFailure[][] = chunks.map(() => []);
  const files = new Map<string, { whole: boolean; writes: { i: number; data: Buffer; position: number }[] }>();
  chunks.forEach((data, i) => {
    if (typeof data === 'string') return;
    for (const t of targets[i] ?? []) {
      let f = files.get(t.path);
      if (!f) files.set(t.path, (f = { whole: t.whole, writes: [] }));
      f.writes.push({ i, data, position: t.position });
    }
  });
  await Promise.all(
    [...files].map(async ([path, f]) => {
      const failAll = (e: unknown) => {
        const failure = { path, reason: reasonOf(e) };
        for (const w of f.writes) if (!failures[w.i]!.some((x) => x.path === path)) failures[w.i]!.push(failure);
      };
      let fh: FileHandle;
      try {
        fh = await open(path, f.whole ? 'w' : 'r+');
      } catch (e) {
        return failAll(e);
      }
      try {
        await Promise.all(f.writes.map((w) => writeAll(fh, w.data, w.position).catch((e: unknown) => failures[w.i]!.push({ path, reason: reasonOf(e) }))));
      } finally {
        // A close that fails may have lost writes: every chunk written to that file fails it.
        await fh.close().catch(failAll);
      }
    }),
  );
  return failures;
}
