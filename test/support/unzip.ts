import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import yauzl from 'yauzl';

/** Extracts a zip (from memory) into a folder with yauzl, an independent reader. */
export function unzipTo(zip: Buffer, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err || !file) return reject(err);
      let n = 0;
      file.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) {
          mkdirSync(join(target, entry.fileName), { recursive: true });
          return file.readEntry();
        }
        file.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const parts: Buffer[] = [];
          stream.on('data', (d: Buffer) => parts.push(d));
          stream.on('end', () => {
            const full = join(target, entry.fileName);
            mkdirSync(dirname(full), { recursive: true });
            writeFileSync(full, Buffer.concat(parts));
            n++;
            file.readEntry();
          });
        });
      });
      file.on('end', () => resolve(n));
      file.on('error', reject);
      file.readEntry();
    });
  });
}
