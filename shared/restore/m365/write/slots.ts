/**
 * A process-wide count of large items whose content is in memory at once (a fragment being sent, a
 * window being read), so the memory of a restore stays bounded whatever the number of users and
 * services written in parallel.
 */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/** Files above 256 KiB uploaded at once in this process (each holds up to a fragment and a read window). */
export const LARGE_UPLOADS = new Slots(3);
export const LARGE_ITEM_BYTES = 256 * 1024;
