import { closeSync, openSync, writeSync } from 'node:fs';

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

/**
 * Writes the plaintexts of one pack range into their files where they were opened (a worker
 * thread), so they never travel back to the main thread: each file is opened once for the range,
 * written at its positions straight from the plaintext, closed at the end. What the file system
 * refuses fails that target only. `chunks[i]` is a plaintext or why it could not be opened (skipped).
 */
export function writeTargets(chunks: readonly (Buffer | string)[], targets: readonly (readonly ChunkTarget[])[]): TargetFailure[][] {
  const fds = new Map<string, number | TargetFailure>();
  const failures: TargetFailure[][] = chunks.map(() => []);
  try {
    chunks.forEach((data, i) => {
      if (typeof data === 'string') return;
      for (const t of targets[i] ?? []) {
        let fd = fds.get(t.path);
        try {
          if (typeof fd === 'object') throw fd;
          if (fd === undefined) fds.set(t.path, (fd = openSync(t.path, t.whole ? 'w' : 'r+')));
          for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done, t.position + done);
        } catch (e) {
          const failure = fd !== undefined && typeof fd === 'object' ? fd : { path: t.path, reason: reasonOf(e) };
          if (fd === undefined) fds.set(t.path, failure); // not retried for the range's other chunks
          failures[i]!.push(failure);
        }
      }
    });
  } finally {
    for (const [path, fd] of fds) {
      if (typeof fd !== 'number') continue;
      try {
        closeSync(fd);
      } catch (e) {
        // A close that fails may have lost writes: every chunk written to that file fails it.
        const failure = { path, reason: reasonOf(e) };
        targets.forEach((ts, i) => ts.some((t) => t.path === path) && failures[i]!.push(failure));
      }
    }
  }
  return failures;
}
