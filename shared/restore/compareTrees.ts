import { createHash } from 'node:crypto';
import { lstat, readdir, readlink, readFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';

/**
 * Exact folder comparison for verified restores (the demo, tests): per path, the type, content hash,
 * size, mode, mtime (µs) and link target.
 */
export type Manifest = Map<string, string>;

async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const part of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) h.update(part as Buffer);
  return h.digest('hex');
}

/** Describes a folder tree for exact comparison (the root's own mtime is left out: restoring into it changes it). */
export async function manifest(root: string): Promise<Manifest> {
  const out: Manifest = new Map();
  const walk = async (rel: string) => {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const full = join(root, r);
      // Microseconds from the exact nanoseconds: restore sets times to the microsecond (what Node can
      // set), and flooring mtimeMs would not do — that double rounds x.999999 ms up to the next ms.
      const st = await lstat(full, { bigint: true });
      const mtime = (st.mtimeNs / 1000n).toString();
      const mode = (Number(st.mode) & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.set(r, `link ${await readlink(full)}`);
      else if (st.isDirectory()) {
        out.set(r, `dir ${mode} ${mtime}`);
        await walk(r);
      } else out.set(r, `file ${st.size} ${mode} ${mtime} ${st.size < 65536n ? createHash('sha256').update(await readFile(full)).digest('hex') : await hashFile(full)}`);
    }
  };
  await walk('');
  return out;
}

/** The differences between two manifests, as readable lines (empty when identical). */
export function diffManifests(expected: Manifest, actual: Manifest): string[] {
  const lines: string[] = [];
  for (const [k, v] of expected) {
    const a = actual.get(k);
    if (a === undefined) lines.push(`missing: ${k}`);
    else if (a !== v) lines.push(`differs: ${k}: expected ${v}, got ${a}`);
  }
  for (const k of actual.keys()) if (!expected.has(k)) lines.push(`unexpected: ${k}`);
  return lines.slice(0, 20);
}
