/**
 * Client-side request budgets, so the backup stays inside Graph's limits instead of bouncing off
 * them: per mailbox at most `concurrency` requests in flight and `budget` requests per sliding
 * window (Outlook: 4 and 10,000 per 10 minutes); per tenant one shared concurrency cap and one
 * shared pause when Graph answers 429/503, so parallel users back off together.
 */
export interface MailboxBudget {
  concurrency: number;
  budget: number;
  windowMs: number;
}

export const OUTLOOK_BUDGET: MailboxBudget = { concurrency: 4, budget: 10_000, windowMs: 600_000 };

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

export { sleep };

/** A counting semaphore with FIFO waiters. */
export class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }
}

class MailboxGate {
  readonly slots: Semaphore;
  private readonly times: number[] = [];
  pausedUntil = 0;
  constructor(private readonly budget: MailboxBudget) {
    this.slots = new Semaphore(budget.concurrency);
  }

  record(): void {
    this.times.push(Date.now());
  }

  /**
   * Waits for a slot in the sliding window, then records the request. The window is kept 1% longer
   * than Graph's: Graph counts arrivals, we count sends, and uneven latency would otherwise let a
   * request arrive inside Graph's window that left outside ours.
   */
  async takeBudget(): Promise<void> {
    const window = this.budget.windowMs + Math.min(2000, Math.ceil(this.budget.windowMs / 100));
    for (;;) {
      const now = Date.now();
      while (this.times.length > 0 && this.times[0]! <= now - window) this.times.shift();
      const pause = this.pausedUntil - now;
      if (pause > 0) {
        await sleep(pause);
        continue;
      }
      if (this.times.length < this.budget.budget) {
        this.times.push(now);
        return;
      }
      await sleep(this.times[0]! + window - now + 1);
    }
  }
}

export class TenantGates {
  private readonly mailboxes = new Map<string, MailboxGate>();
  private readonly tenantSlots: Semaphore;
  private pausedUntil = 0;
  /** Requests sent, and 429/503 answers seen (for reports and the benchmark). */
  readonly counters = { requests: 0, throttled: 0, retries: 0 };

  constructor(
    readonly mailboxBudget: MailboxBudget = OUTLOOK_BUDGET,
    tenantConcurrency = 16,
  ) {
    this.tenantSlots = new Semaphore(tenantConcurrency);
  }

  private gate(mailbox: string): MailboxGate {
    let g = this.mailboxes.get(mailbox);
    if (!g) this.mailboxes.set(mailbox, (g = new MailboxGate(this.mailboxBudget)));
    return g;
  }

  /** Enters the gates for one request; returns the release function. */
  async enter(mailbox: string | undefined): Promise<() => void> {
    const g = mailbox ? this.gate(mailbox) : undefined;
    // The mailbox's own slot and budget first, so a throttled mailbox waits without holding a tenant slot.
    if (g) {
      await g.slots.acquire();
      try {
        await g.takeBudget();
      } catch (e) {
        g.slots.release();
        throw e;
      }
    }
    await this.tenantSlots.acquire();
    const pause = this.pausedUntil - Date.now();
    if (pause > 0) await sleep(pause);
    this.counters.requests++;
    return () => {
      this.tenantSlots.release();
      g?.slots.release();
    };
  }

  /** Records a request sent outside the gates (a request inside a JSON batch) against its mailbox's budget. */
  count(mailbox: string | undefined): void {
    if (mailbox) this.gate(mailbox).record();
  }

  /** Graph said to wait: a throttled mailbox waits alone; anything else pauses the whole tenant. */
  pause(mailbox: string | undefined, ms: number): void {
    const until = Date.now() + ms;
    if (mailbox) this.gate(mailbox).pausedUntil = Math.max(this.gate(mailbox).pausedUntil, until);
    else this.pausedUntil = Math.max(this.pausedUntil, until);
  }
}

/** The mailbox an Outlook request counts against ("users/<id>"), or undefined for other workloads. */
export function mailboxOf(url: string): string | undefined {
  const m = /\/users\/([^/?]+)\/(mailFolders|messages|calendarView|calendar|calendars|events|contacts|contactFolders)\b/i.exec(url);
  return m ? `users/${decodeURIComponent(m[1]!).toLowerCase()}` : undefined;
}

/**
 * Bytes of item content a run may hold in memory at once (shared by every user and service);
 * content that does not fit is spooled to a temporary file instead of waiting.
 */
export class MemoryBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}
