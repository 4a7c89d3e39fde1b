/**
 * One process-wide budget for restore content in flight: the bytes of decrypted chunks, MIME
 * buffers and upload fragments held at once by every writer of the process (all users, all
 * services). A writer takes its item's cost before it reads the content and gives it back when the
 * item is sent, so the memory of a restore stays bounded whatever M365_RESTORE_PARALLELISM is.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: { bytes: number; go: () => void }[] = [];
  constructor(readonly limit: number) {}

  /** Runs fn holding `bytes` of the budget (an item larger than the whole budget runs alone). */
  async run<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
    const cost = Math.min(Math.max(0, Math.ceil(bytes)), this.limit);
    await this.take(cost);
    try {
      return await fn();
    } finally {
      this.give(cost);
    }
  }

  get inUse(): number {
    return this.used;
  }

  private take(cost: number): Promise<void> {
    // First come, first served: a large item waiting is not overtaken forever by small ones.
    if (this.waiting.length === 0 && this.used + cost <= this.limit) {
      this.used += cost;
      return Promise.resolve();
    }
    return new Promise<void>((go) => this.waiting.push({ bytes: cost, go }));
  }

  private give(cost: number): void {
    this.used -= cost;
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.bytes <= this.limit) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.go();
    }
  }
}

/** Bytes of restore content the process holds at once (decrypted chunks, MIME, fragments). */
export const CONTENT_IN_FLIGHT_BYTES = 96 * 1024 * 1024;
export const CONTENT_IN_FLIGHT = new ByteBudget(CONTENT_IN_FLIGHT_BYTES);
