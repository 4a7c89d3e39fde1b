import { open, type FileHandle } from 'node:fs/promises';

interface OpenFile {
  fh: Promise<FileHandle>;
  busy: number;
}

/**
 * Writes chunks at their positions in files that already exist, several at once: a file is opened
 * once for its chunks (not once per chunk) and closed after its last one; at most `maxOpen` stay
 * open (the least recently used idle one is closed first).
 */
export class FileSink {
  private readonly files = new Map<string, OpenFile>();
  /** Chunks still to be written, per file. */
  private readonly left = new Map<string, number>();

  constructor(private readonly maxOpen = 128) {}

  /** How many chunks go into `path` (so its handle is closed after the last). */
  expect(path: string, chunks: number): void {
    this.left.set(path, (this.left.get(path) ?? 0) + chunks);
  }

  async write(path: string, data: Buffer, position: number): Promise<void> {
    let f = this.files.get(path);
    if (f) this.files.delete(path); // re-inserted below: the map's order is the use order
    else {
      await this.makeRoom();
      f = { fh: open(path, 'r+'), busy: 0 };
      f.fh.catch(() => undefined);
    }
    this.files.set(path, f);
    f.busy++;
    try {
      const fh = await f.fh;
      await fh.write(data, 0, data.length, position);
    } finally {
      f.busy--;
      const left = (this.left.get(path) ?? 1) - 1;
      this.left.set(path, left);
      if (left <= 0) {
        this.left.delete(path);
        if (f.busy === 0) await this.close(path, f);
      }
    }
  }

  /** Closes the handle of a file whose remaining chunks will not come (it failed). */
  async abandon(path: string): Promise<void> {
    const f = this.files.get(path);
    this.left.delete(path);
    if (f && f.busy === 0) await this.close(path, f);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.files].map(([path, f]) => this.close(path, f)));
  }

  private async makeRoom(): Promise<void> {
    if (this.files.size < this.maxOpen) return;
    for (const [path, f] of this.files)
      if (f.busy === 0) {
        await this.close(path, f);
        return;
      }
  }

  private async close(path: string, f: OpenFile): Promise<void> {
    if (this.files.get(path) === f) this.files.delete(path);
    await (await f.fh.catch(() => undefined))?.close();
  }
}
