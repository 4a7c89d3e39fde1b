import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import yauzl from 'yauzl';

/** Extracts a zip held in memory into a folder (entries that would escape it are refused). */
export function unzipBuffer(zip: Buffer, target: string): Promise<number> {
  const root = resolve(target);
  return new Promise((done, fail) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err || !file) return fail(err);
      let n = 0;
      file.on('entry', (entry: yauzl.Entry) => {
        const full = resolve(root, entry.fileName);
        if (full !== root && !full.startsWith(root + sep)) return fail(new Error(`zip entry escapes the target: ${entry.fileName}`));
        if (entry.fileName.endsWith('/')) {
          void mkdir(full, { recursive: true }).then(() => file.readEntry(), fail);
          return;
        }
        file.openReadStream(entry, (e, stream) => {
          if (e || !stream) return fail(e);
          const parts: Buffer[] = [];
          stream.on('data', (d: Buffer) => parts.push(d));
          stream.on('end', () => {
            void mkdir(dirname(full), { recursive: true })
              .then(() => writeFile(full, Buffer.concat(parts)))
              .then(() => {
                n++;
                file.readEntry();
              }, fail);
          });
        });
      });
      file.on('end', () => done(n));
      file.on('error', fail);
      file.readEntry();
    });
  });
}
