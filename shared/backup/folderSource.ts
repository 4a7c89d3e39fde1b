import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { forEachConcurrent } from '../concurrency';

/** lstat calls in flight per folder: a cold disk or a network share answers many at once. */
const STAT_CONCURRENCY = 16;

export type EntryType = 'file' | 'dir' | 'symlink';

/** One file-system entry, with the metadata a restore puts back. Paths are relative, '/'-separated. */
export interface FolderEntry {
  path: string;
  type: EntryType;
  size: number;
  /** Modification time in nanoseconds since the epoch, as a decimal string (exact). */
  mtimeNs: string;
  mode: number;
  target?: string;
}

export interface WalkFailure {
  path: string;
  reason: string;
}

export interface WalkResult {
  entries: FolderEntry[];
  failures: WalkFailure[];
  skipped: number;
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'vanished during backup';
  return code ?? String((e as Error).message ?? e);
}

async function entryOf(abs: string, rel: string): Promise<FolderEntry | undefined> {
  const st = await lstat(abs, { bigint: true });
  const base = { path: rel, mtimeNs: st.mtimeNs.toString(), mode: Number(st.mode & 0o7777n) };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', size: 0, target: await readlink(abs) };
  if (st.isDirectory()) return { ...base, type: 'dir', size: 0 };
  if (st.isFile()) return { ...base, type: 'file', size: Number(st.size) };
  return undefined; // sockets, FIFOs and devices are not backed up
}

/**
 * Walks a folder depth-first in name order. The root itself is the entry ".". Unreadable entries
 * are reported as failures and the walk goes on; symlinks are recorded as links, never followed.
 */
export async function walkFolder(root: string): Promise<WalkResult> {
  const entries: FolderEntry[] = [];
  const failures: WalkFailure[] = [];
  let skipped = 0;
  const rootEntry = await entryOf(root, '.');
  if (!rootEntry || rootEntry.type !== 'dir') throw new Error(`${root} is not a directory`);
  entries.push(rootEntry);
  const stack: string[] = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    let names: string[];
    try {
      names = (await readdir(join(root, rel))).sort();
    } catch (e) {
      failures.push({ path: rel || '.', reason: reason(e) });
      continue;
    }
    const subdirs: string[] = [];
    const found: (FolderEntry | WalkFailure | undefined)[] = new Array(names.length);
    await forEachConcurrent(names.map((_, i) => i), STAT_CONCURRENCY, async (i) => {
      const childRel = rel ? `${rel}/${names[i]}` : names[i]!;
      found[i] = await entryOf(join(root, childRel), childRel).catch((e: unknown): WalkFailure => ({ path: childRel, reason: reason(e) }));
    });
    for (const r of found) {
      if (!r) skipped++;
      else if ('reason' in r) failures.push(r);
      else {
        entries.push(r);
        if (r.type === 'dir') subdirs.push(r.path);
      }
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
  return { entries, failures, skipped };
}
