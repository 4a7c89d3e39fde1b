import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat, symlink, chmod, utimes, lutimes, writeFile, access, constants } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { PrivateKey } from '../crypto';
import { BackupError } from '../errors';
import { Catalog, ChunkReader, whileReading, type ItemVersion, type Repository, type SnapshotRecord } from '../repo';
import { addTarget, forEachChunkPosition, missingChunk } from './chunkFetcher';
import { noProgress, type ProgressListener } from '../progress';
import { included, selectSnapshot } from './selectSnapshot';
import { nameKey } from './m365/naming';
import { joinUnderTarget } from './targetPath';

export interface FolderRestoreOptions {
  partition: string;
  snapshot: string;
  target: string;
  include?: string[];
  force?: boolean;
  onProgress?: ProgressListener;
}

export interface RestoreResult {
  snapshot: SnapshotRecord;
  files: number;
  dirs: number;
  links: number;
  bytes: number;
  failures: { path: string; reason: string }[];
}

interface FolderMeta {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  mtimeNs: string;
  mode: number;
  target?: string;
}

async function prepareTarget(target: string, force: boolean): Promise<void> {
  const st = await stat(target).catch(() => undefined);
  if (st && !st.isDirectory()) throw new BackupError('TARGET', `The restore target ${target} exists and is not a folder.`);
  if (st) {
    const names = await readdir(target).catch((e: unknown) => {
      throw new BackupError('TARGET', `The restore target ${target} cannot be read (${(e as NodeJS.ErrnoException).code}).`);
    });
    if (names.length > 0 && !force)
      throw new BackupError('TARGET', `The restore target ${target} is not empty.`, { hint: 'Choose an empty folder or pass --force to write into it.' });
    await access(target, constants.W_OK).catch(() => {
      throw new BackupError('TARGET', `The restore target ${target} is not writable.`);
    });
    return;
  }
  await mkdir(target, { recursive: true }).catch((e: unknown) => {
    throw new BackupError('TARGET', `The restore target ${target} cannot be created (${(e as NodeJS.ErrnoException).code}).`);
  });
}

/** Whether the target folder tells "a" from "A" (probed with a temporary file). */
async function caseSensitive(target: string): Promise<boolean> {
  const name = `.m365-backup-case-${randomBytes(6).toString('hex')}`;
  const probe = join(target, name);
  await writeFile(probe, '');
  try {
    return !(await stat(join(target, name.toUpperCase())).then(() => true, () => false));
  } finally {
    await rm(probe, { force: true });
  }
}


/**
 * Seconds for utimes from a nanosecond timestamp. Node passes a double and the kernel truncates its
 * fraction, so aim at the middle of the microsecond: the time then lands on the exact microsecond
 * (a double near 1.8e9 s resolves ~0.24 µs). Sub-microsecond digits cannot be set through Node.
 */
export const nsToUtimeSeconds = (ns: string) => (Number(BigInt(ns) / 1000n) + 0.5) / 1e6;

/**
 * Restores a snapshot of a folder partition: content byte-identical, with modes, mtimes, symlinks and
 * empty folders. A damaged pack fails only the files that need it; the rest are restored.
 */
export function restoreFolder(repo: Repository, privateKey: PrivateKey, options: FolderRestoreOptions): Promise<RestoreResult> {
  return whileReading(repo, 'a restore', () => restoreFolderRead(repo, privateKey, options));
}

async function restoreFolderRead(repo: Repository, privateKey: PrivateKey, options: FolderRestoreOptions): Promise<RestoreResult> {
  const onProgress = options.onProgress ?? noProgress;
  const catalog = new Catalog(repo, options.partition);
  const snapshot = await selectSnapshot(catalog, options.snapshot);
  const target = resolve(options.target);
  const runKeys = await catalog.openRunKeys(privateKey);

  const items: { v: ItemVersion; m: FolderMeta }[] = [];
  const damaged: { path: string; reason: string }[] = [];
  const onDamaged = (row: string, reason: string) => damaged.push({ path: `(item row ${row})`, reason: `${reason} The item is not restored.` });
  for await (const v of catalog.versionsAt(snapshot.seq, runKeys, onDamaged)) {
    const m = v.meta as unknown as FolderMeta;
    if (m.path === '.' || included(m.path, options.include)) items.push({ v, m });
  }
  if (options.include?.length && !items.some((i) => i.m.path !== '.'))
    throw new BackupError('NOT_FOUND', `Nothing in snapshot ${snapshot.seq} matches --include ${options.include.join(', ')}.`);
  await prepareTarget(target, options.force ?? false);

  const result: RestoreResult = { snapshot, files: 0, dirs: 0, links: 0, bytes: 0, failures: damaged };
  items.sort((a, b) => (a.m.path < b.m.path ? -1 : a.m.path > b.m.path ? 1 : 0));
  const failed = new Set<string>();
  // On a case-insensitive target (macOS, Windows), "A" and "a" are one file: the second would
  // silently overwrite the first. Paths are kept exact, so such an item is a listed failure.
  if (items.length > 1 && !(await caseSensitive(target))) {
    const seen = new Set<string>();
    for (let i = 0; i < items.length; i++) {
      const key = nameKey(items[i]!.m.path);
      if (!seen.has(key)) {
        seen.add(key);
        continue;
      }
      result.failures.push({ path: items[i]!.m.path, reason: 'another item has the same name on this case-insensitive target; restore it to a case-sensitive folder' });
      items.splice(i--, 1);
    }
  }

  function fail(path: string, reason: string): void {
    if (failed.has(path)) return;
    failed.add(path);
    result.failures.push({ path, reason });
  }
  /** What the target refuses (a name too long, a permission) fails that item only. */
  const unwritable = (path: string, e: unknown) => {
    if (e instanceof BackupError) throw e;
    fail(path, `cannot be written (${(e as NodeJS.ErrnoException)?.code ?? String((e as Error)?.message ?? e)})`);
  };

  // 1. Folders, links and empty files; multi-chunk files are created empty and filled below.
  for (const { v, m } of items) {
    const full = joinUnderTarget(target, m.path);
    try {
      if (m.type === 'dir') {
        await mkdir(full, { recursive: true });
        result.dirs++;
      } else {
        await mkdir(dirname(full), { recursive: true });
        if (m.type === 'symlink') {
          await symlink(m.target ?? '', full).catch(async (e: unknown) => {
            if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !options.force) throw e;
          });
          result.links++;
        } else if (v.chunkIds.length !== 32) await writeFile(full, Buffer.alloc(0)); // one-chunk files are written whole below
      }
    } catch (e) {
      unwritable(m.path, e);
    }
  }

  // 2. Content: every chunk read once, written to every place that holds it. The worker thread that
  // opens a chunk writes it (the plaintext is not sent back here); files are opened once per range.
  const files = items.filter((i) => i.m.type === 'file');
  const wanted = new Set<string>();
  for (const { v } of files) for (let i = 0; i < v.chunkIds.length; i += 32) wanted.add(v.chunkIds.toString('hex', i, i + 32));
  /** Per chunk, where it goes: the item's path and the file's full path, at a position. */
  const targets = new Map<string, { path: string; full: string; position: number; whole: boolean }[]>();
  const itemOf = new Map<string, string>();
  let bytesTotal = 0;

  // Positions need each chunk's length, which the index knows: locate first, then plan, then read.
  const reader = new ChunkReader(repo, privateKey);
  const locations = await reader.locate(wanted);
  for (const { v, m } of files) {
    result.files++;
    bytesTotal += m.size;
    // A file that is exactly one chunk is created by its one write (it was not created empty above).
    const whole = v.chunkIds.length === 32;
    const full = joinUnderTarget(target, m.path);
    itemOf.set(full, m.path);
    const missing = forEachChunkPosition(v.chunkIds, locations, (hex, _index, position) => addTarget(targets, hex, { path: m.path, full, position, whole }));
    if (missing) fail(m.path, missingChunk(missing));
  }
  let bytesDone = 0;
  await reader.writeChunks(
    [...locations].map(([hex, loc]) => ({ id: Buffer.from(hex, 'hex'), loc })),
    (id) => (targets.get(id.toString('hex')) ?? []).filter((t) => !failed.has(t.path)).map((t) => ({ path: t.full, position: t.position, whole: t.whole })),
    (id, bytes, refused) => {
      // What the target refused (a name too long, a permission) fails that item only.
      for (const r of refused) fail(itemOf.get(r.path) ?? r.path, `cannot be written (${r.reason})`);
      for (const t of targets.get(id.toString('hex')) ?? []) {
        if (failed.has(t.path)) continue;
        bytesDone += bytes;
        result.bytes += bytes;
      }
      onProgress({ phase: 'restoring', itemsDone: 0, itemsTotal: result.files, bytesDone, bytesTotal });
    },
    (_packId, ids, reason) => {
      for (const id of ids) for (const t of targets.get(id.toString('hex')) ?? []) fail(t.path, reason);
    },
  );

  // 3. Modes and times last (writing content would change them); folders deepest first.
  for (const { m } of [...items].reverse()) {
    if (failed.has(m.path)) continue;
    const full = joinUnderTarget(target, m.path);
    const secs = nsToUtimeSeconds(m.mtimeNs);
    if (m.type === 'symlink') await lutimes(full, secs, secs).catch(() => undefined);
    else {
      await chmod(full, m.mode & 0o7777);
      await utimes(full, secs, secs);
    }
  }
  return result;
}
