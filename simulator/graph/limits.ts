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

/** Teams: channel message delta and replies share 60 requests a minute per app per tenant (concurrency not limited). */
export const TEAMS_MESSAGE_LIMITS: MailboxLimits = { concurrency: 1_000_000, budget: 60, windowMs: 60_000 };

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

/**
 * A limit per app per tenant, counted across every client of the app (any number of processes):
 * at most `concurrency` requests in flight and `budget` requests per sliding `windowMs`, every
 * Graph request of the tenant counting one (requests inside a JSON batch each count, the envelope
 * does not; downloads from pre-authenticated URLs count). Like SharePoint's per-app-per-tenant
 * limits, scaled; Outlook's per-mailbox limits apply in addition. Either part may be left out.
 */
export interface TenantLimits {
  concurrency?: number;
  budget?: number;
  windowMs?: number;
}

export class TenantLimiter {
  private readonly tenants = new Map<string, MailboxState>();

  constructor(public limits: TenantLimits | undefined) {}

  admit(tenantId: string, now = Date.now()): { ok: true } | { ok: false; retryAfterSeconds: number; reason: string } {
    const l = this.limits;
    if (!l) return { ok: true };
    let s = this.tenants.get(tenantId);
    if (!s) this.tenants.set(tenantId, (s = { inFlight: 0, times: [], head: 0 }));
    if (l.budget !== undefined && l.windowMs !== undefined) {
      while (s.head < s.times.length && s.times[s.head]! <= now - l.windowMs) s.head++;
      if (s.head > 4096) {
        s.times = s.times.slice(s.head);
        s.head = 0;
      }
      const used = s.times.length - s.head;
      s.times.push(now);
      if (used >= l.budget) {
        const oldest = s.times[s.head]!;
        return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + l.windowMs - now) / 1000)), reason: 'Application is over its tenant request limit.' };
      }
    }
    if (l.concurrency !== undefined && s.inFlight >= l.concurrency) return { ok: false, retryAfterSeconds: 1, reason: 'Application is over its tenant concurrency limit.' };
    s.inFlight++;
    return { ok: true };
  }

  release(tenantId: string): void {
    const s = this.tenants.get(tenantId);
    if (s && s.inFlight > 0) s.inFlight--;
  }

  /** Requests in flight right now for the tenant. */
  inFlight(tenantId: string): number {
    return this.tenants.get(tenantId)?.inFlight ?? 0;
  }

  reset(): void {
    this.tenants.clear();
  }
}
