import { closeSync, cpSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from '../shared/local';

const KiB = 1024;
const MiB = 1024 * KiB;

export interface Dataset {
  files: string[];
  bytes: number;
}

/** Seeded mixed folder: log-uniform sizes 1 KiB-64 MiB in 8 folders; ~1 in 5 files text-like (compressible). */
export function createDataset(root: string, totalBytes: number, seed: number): Dataset {
  const rnd = new SeededRandom(seed);
  const files: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < totalBytes; i++) {
    const size = Math.min(totalBytes - bytes, Math.round(Math.exp(Math.log(KiB) + rnd.next() * (Math.log(64 * MiB) - Math.log(KiB)))));
    const rel = `folder-${i % 8}/file-${i}.${i % 5 === 0 ? 'txt' : 'bin'}`;
    mkdirSync(join(root, `folder-${i % 8}`), { recursive: true });
    const fd = openSync(join(root, rel), 'w');
    let written = 0;
    for (let done = 0; done < size; ) {
      const n = Math.min(8 * MiB, size - done);
      // Text lines are ~31 bytes, so a text file comes out shorter than `size`: count what is written.
      written += writeSync(fd, i % 5 === 0 ? Buffer.from(`line ${done} of a text-like file ${i}; `.repeat(Math.ceil(n / 40))).subarray(0, n) : rnd.bytes(n));
      done += n;
    }
    closeSync(fd);
    files.push(rel);
    bytes += written;
  }
  return { files, bytes };
}

/**
 * Version 2: a copy of version 1 (mtimes kept) with ~5% of bytes overwritten in place in runs of
 * 4 KiB-1 MiB, 24 small insertions into large files (content-defined chunking must resynchronise),
 * and ~1% new files.
 */
export function deriveVersion2(v1: string, v2: string, d: Dataset, seed: number): void {
  cpSync(v1, v2, { recursive: true, preserveTimestamps: true });
  const rnd = new SeededRandom(seed);
  const sizes = d.files.map((f) => statSync(join(v2, f)).size);
  let changed = 0;
  while (changed < d.bytes * 0.05) {
    const i = rnd.int(0, d.files.length - 1);
    if (sizes[i]! < 8 * KiB) continue;
    const run = Math.min(sizes[i]! - 1, rnd.int(4 * KiB, MiB));
    const fd = openSync(join(v2, d.files[i]!), 'r+');
    writeSync(fd, rnd.bytes(run), 0, run, rnd.int(0, sizes[i]! - run));
    closeSync(fd);
    changed += run;
  }
  const large = d.files.filter((_, i) => sizes[i]! > 16 * MiB);
  for (let k = 0; k < 24 && large.length > 0; k++) {
    const f = join(v2, large[k % large.length]!);
    const data = readFileSync(f);
    const at = rnd.int(0, data.length);
    writeFileSync(f, Buffer.concat([data.subarray(0, at), rnd.bytes(100), data.subarray(at)]));
  }
  for (let added = 0, i = 0; added < d.bytes * 0.01; i++) {
    const size = rnd.int(100 * KiB, 2 * MiB);
    writeFileSync(join(v2, `folder-${i % 8}`, `new-${i}.bin`), rnd.bytes(size));
    added += size;
  }
}
