import { mkdirSync, writeFileSync, symlinkSync, utimesSync, openSync, writeSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SeededRandom } from './random';

export function put(root: string, rel: string, data: Buffer | string, mtimeSec?: number): void {
  const full = join(root, rel);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, data);
  if (mtimeSec !== undefined) utimesSync(full, mtimeSec, mtimeSec);
}

/** Writes `size` seeded random bytes in 8 MiB pieces (never the whole file in memory). */
export function putRandomFile(root: string, rel: string, size: number, rnd: SeededRandom): void {
  const full = join(root, rel);
  mkdirSync(dirname(full), { recursive: true });
  const fd = openSync(full, 'w');
  try {
    for (let done = 0; done < size; ) {
      const n = Math.min(8 * 1024 * 1024, size - done);
      writeSync(fd, rnd.bytes(n));
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

export interface RoundTripFolderOptions {
  bigFileBytes: number;
  smallFiles: number;
  seed: number;
}

/**
 * The acceptance folder: unicode and space-laden names, empty files and folders, one big file,
 * many small files, 30-level nesting, symlinks (one dangling) and assorted modes and mtimes.
 */
export function buildRoundTripFolder(root: string, o: RoundTripFolderOptions): void {
  const rnd = new SeededRandom(o.seed);
  putRandomFile(root, 'big file.bin', o.bigFileBytes, rnd);
  put(root, 'Ünïcödé folder/naïve résumé.txt', 'accented\n', 1_600_000_000);
  put(root, '日本語/ファイル 名前.txt', 'japanese\n', 1_500_000_000);
  put(root, 'emoji 😀 dir/smile 😀.md', '# smile\n');
  put(root, '  leading and trailing spaces  .txt', 'spaces\n');
  put(root, 'empty file.txt', '');
  put(root, 'nested empty/also empty.dat', '');
  mkdirSync(join(root, 'empty folder'), { recursive: true });
  mkdirSync(join(root, 'deep empty/a/b/c'), { recursive: true });
  let deep = 'deep';
  for (let i = 1; i <= 30; i++) deep += `/level ${i}`;
  put(root, `${deep}/leaf.txt`, 'thirty levels down\n');
  symlinkSync('big file.bin', join(root, 'link to big'));
  symlinkSync('does/not/exist', join(root, 'dangling link'));
  for (let i = 0; i < o.smallFiles; i++) {
    const dir = `small/d${String(i % 100).padStart(3, '0')}`;
    const size = rnd.int(1, 8192);
    const text = i % 3 === 0;
    const data = text ? Buffer.from(`file ${i}\n`.repeat(Math.ceil(size / 10))).subarray(0, size) : rnd.bytes(size);
    put(root, `${dir}/f${i}.${text ? 'txt' : 'bin'}`, data, 1_700_000_000 + i);
  }
  writeFileSync(join(root, 'executable.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  writeFileSync(join(root, 'private.key.txt'), 'not really\n', { mode: 0o600 });
}
