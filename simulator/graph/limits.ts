/**
 * Outlook's per-mailbox limits as Graph enforces them per app: at most `concurrency` requests in
 * flight and `budget` requests per sliding `windowMs`. Over either, the request is answered 429 with
 * Retry-After (and still counts, as throttled requests do on Graph).
 */
export interface MailboxLimits {
  concurrency: number;
  budget: number;
  windowMs: number;
}

export const OUTLOOK_LIMITS: MailboxLimits = { concurrency: 4, budget: 10_000, windowMs: 600_000 };

interface MailboxState {
  inFlight: number;
  times: number[];
  head: number;
}

export class MailboxLimiter {
  private readonly boxes = new Map<string, MailboxState>();

  constructor(public limits: MailboxLimits | undefined) {}

  /** Admits a request, or says how many seconds to wait. */
  admit(mailbox: string, now = Date.now()): { ok: true } | { ok: false; retryAfterSeconds: number; reason: string } {
    if (!this.limits) return { ok: true };
    let s = this.boxes.get(mailbox);
    if (!s) this.boxes.set(mailbox, (s = { inFlight: 0, times: [], head: 0 }));
    while (s.head < s.times.length && s.times[s.head]! <= now - this.limits.windowMs) s.head++;
    if (s.head > 4096) {
      s.times = s.times.slice(s.head);
      s.head = 0;
    }
    const used = s.times.length - s.head;
    s.times.push(now);
    if (used >= this.limits.budget) {
      const oldest = s.times[s.head]!;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + this.limits.windowMs - now) / 1000)), reason: 'Application is over its MailboxRequests limit.' };
    }
    if (s.inFlight >= this.limits.concurrency) return { ok: false, retryAfterSeconds: 1, reason: 'Application is over its MailboxConcurrency limit.' };
    s.inFlight++;
    return { ok: true };
  }

  /** Forgets every mailbox's history (a fresh measurement). */
  reset(): void {
    this.boxes.clear();
  }

  release(mailbox: string): void {
    const s = this.boxes.get(mailbox);
    if (s && s.inFlight > 0) s.inFlight--;
  }
}
