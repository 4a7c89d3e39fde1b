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

/** Requests sent, and 429/503 answers seen (for reports and the benchmark). */
export interface GateCounters {
  requests: number;
  throttled: number;
  retries: number;
}

/**
 * What the retry layer and the downloads ask of a tenant's budgets. Two implementations:
 * `TenantGates` (this file) keeps them in process memory, for one process alone (tests, a folder
 * CLI run, `tenant add`); `SharedTenantGates` (sharedGates.ts) keeps them in storage rows shared by
 * every process of the tenant (Function App instances, the CLI tenant run).
 */
export interface RequestGates {
  readonly counters: GateCounters;
  readonly mailboxBudget: MailboxBudget;
  /** Enters the gates for one request costing `cost` tokens of the tenant rate (a JSON batch: its requests); returns the release function. */
  enter(mailbox: string | undefined, cost?: number): Promise<() => void>;
  count(mailbox: string | undefined): void;
  /** Graph said to wait: a throttled mailbox waits alone; anything else pauses the whole tenant. */
  pause(mailbox: string | undefined, ms: number): void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

export { sleep };

/**
 * Requests of one JSON batch that Graph runs at once (Outlook runs at most 4 of a batch together):
 * each counts against the tenant's concurrency while it runs, so a batch holds that many tenant
 * slots, not one. (Measured: counting a batch as one slot let two processes exceed a concurrency
 * cap of 6 at the simulator, 6 of 350 requests answered 429.)
 */
export const BATCH_PARALLEL = 4;
/** Tenant slots a request of `cost` requests (a JSON batch: its requests) holds while in flight. */
export const slotsFor = (cost: number) => Math.max(1, Math.min(Math.floor(cost), BATCH_PARALLEL));

/** A counting semaphore with FIFO waiters; a waiter may take several permits at once (all or none, so two batches never deadlock holding half each). */
export class Semaphore {
  private active = 0;
  private readonly waiters: { n: number; resolve: () => void }[] = [];
  constructor(private readonly limit: number) {}

  async acquire(n = 1): Promise<void> {
    const want = Math.min(n, this.limit);
    if (this.waiters.length === 0 && this.active + want <= this.limit) {
      this.active += want;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push({ n: want, resolve }));
  }

  release(n = 1): void {
    this.active -= Math.min(n, this.limit);
    // FIFO: the head waits until it fits, and those behind it wait for it (a batch is not starved by single requests).
    while (this.waiters.length > 0 && this.active + this.waiters[0]!.n <= this.limit) {
      const w = this.waiters.shift()!;
      this.active += w.n;
      w.resolve();
    }
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

/** A tenant-wide request budget in one process: `budget` requests per sliding `windowMs`. */
class RateWindow {
  private readonly times: number[] = [];
  private head = 0;
  constructor(private readonly limit: { budget: number; windowMs: number }) {}

  async take(cost: number): Promise<void> {
    const window = this.limit.windowMs + Math.min(2000, Math.ceil(this.limit.windowMs / 100));
    for (;;) {
      const now = Date.now();
      while (this.head < this.times.length && this.times[this.head]! <= now - window) this.head++;
      if (this.head > 4096) this.times.splice(0, this.head), (this.head = 0);
      if (this.times.length - this.head + cost <= this.limit.budget || this.times.length === this.head) {
        for (let i = 0; i < cost; i++) this.times.push(now);
        return;
      }
      await sleep(this.times[this.head]! + window - now + 1);
    }
  }
}

export class TenantGates implements RequestGates {
  private readonly mailboxes = new Map<string, MailboxGate>();
  private readonly tenantSlots: Semaphore;
  private readonly rate?: RateWindow;
  private pausedUntil = 0;
  readonly counters: GateCounters = { requests: 0, throttled: 0, retries: 0 };

  constructor(
    readonly mailboxBudget: MailboxBudget = OUTLOOK_BUDGET,
    tenantConcurrency = 16,
    tenantRate?: { budget: number; windowMs: number },
  ) {
    this.tenantSlots = new Semaphore(tenantConcurrency);
    if (tenantRate) this.rate = new RateWindow(tenantRate);
  }

  private gate(mailbox: string): MailboxGate {
    let g = this.mailboxes.get(mailbox);
    if (!g) this.mailboxes.set(mailbox, (g = new MailboxGate(this.mailboxBudget)));
    return g;
  }

  /** Enters the gates for one request; returns the release function. */
  async enter(mailbox: string | undefined, cost = 1): Promise<() => void> {
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
    const slots = slotsFor(cost);
    await this.tenantSlots.acquire(slots);
    if (this.rate) await this.rate.take(cost);
    const pause = this.pausedUntil - Date.now();
    if (pause > 0) await sleep(pause);
    this.counters.requests++;
    return () => {
      this.tenantSlots.release(slots);
      g?.slots.release();
    };
  }

  count(mailbox: string | undefined): void {
    if (mailbox) this.gate(mailbox).record();
  }

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
