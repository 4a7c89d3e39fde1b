import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ZipFile } from 'yazl';

async function* walk(dir: string): AsyncGenerator<{ path: string; dir: boolean }> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      yield { path: full, dir: true }; // folders are entries too, so empty ones survive
      yield* walk(full);
    } else if (e.isFile()) yield { path: full, dir: false };
  }
}

/** A folder as a zip byte stream (streaming, ZIP64 as needed); file contents are read as the stream is consumed. */
export async function zipFolder(folder: string): Promise<{ stream: AsyncIterable<Buffer>; files: number }> {
  const zip = new ZipFile();
  let files = 0;
  for await (const entry of walk(folder)) {
    const st = await stat(entry.path);
    const name = relative(folder, entry.path).split('\\').join('/');
    if (entry.dir) zip.addEmptyDirectory(name, { mtime: st.mtime });
    else {
      zip.addFile(entry.path, name, { mtime: st.mtime });
      files++;
    }
  }
  zip.end();
  return { stream: zip.outputStream as AsyncIterable<Buffer>, files };
}
