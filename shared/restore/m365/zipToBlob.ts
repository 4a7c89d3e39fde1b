import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ZipFile } from 'yazl';
import type { BlobStore } from '../../storage';

const BLOCK = 4 * 1024 * 1024;

async function* walk(dir: string): AsyncGenerator<{ path: string; dir: boolean }> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      yield { path: full, dir: true }; // folders are entries too, so empty ones survive
      yield* walk(full);
    } else if (e.isFile()) yield { path: full, dir: false };
  }
}

/** Zips a folder (streaming, ZIP64 as needed) straight into a block blob in 4 MiB blocks. */
export async function zipFolderToBlob(blobs: BlobStore, container: string, name: string, folder: string): Promise<{ bytes: number; files: number }> {
  await blobs.ensureContainer(container);
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
  const ids: string[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let bytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const id = Buffer.from(String(ids.length).padStart(8, '0')).toString('base64');
    await blobs.stageBlock(container, name, id, pending);
    ids.push(id);
    pending = [];
    pendingBytes = 0;
  };
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    bytes += chunk.length;
    if (pendingBytes >= BLOCK) await flush();
  }
  await flush();
  // Tagged so the storage lifecycle policy deletes restore zips after a week (infra/).
  await blobs.commitBlocks(container, name, ids, { tier: 'Hot', tags: { m365backup: 'restore' } });
  return { bytes, files };
}
