import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { BudgetLedger, BudgetState } from './budgetLedger';
import { grantRetention, leaseSlots, noteMailboxPause, pauseUntil, settleGrants, takeTokens, type TakeRequest, type TakeResult, type WindowLimit } from './budgetRules';
import { OUTLOOK_BUDGET, Semaphore, sleep, slotsFor, type GateCounters, type MailboxBudget, type RequestGates } from './gates';

/**
 * Request gates shared by every process of a tenant (any number of Function App instances, or CLI
 * runs), through budget rows in storage (`BudgetLedger`; Table rows with If-Match, see
 * `shared/repo/graphBudgetLedger.ts`):
 * - per-tenant concurrency: slot leases renewed by a heartbeat, so a dead instance's share comes
 *   back after one TTL (`budgetRules.leaseSlots`);
 * - per-mailbox request windows and the optional tenant-wide request rate: each process takes
 *   batches of tokens with a short hold, so storage sees one read and one write per batch, not per
 *   request (`budgetRules.takeTokens`);
 * - the "slow down" pause (429/503 with Retry-After) written to the row it concerns, and obeyed by
 *   every process at its next sync of that row.
 * Per-mailbox concurrency (Outlook: 4) stays per process: the orchestrations back up one mailbox's
 * services one after another, so one mailbox is in one process at a time.
 * A mailbox's first few requests in a window go out without a ledger sync (`mailboxAllowance`): an
 * unchanged unit costs a delta round trip or two, and two storage requests to ask for them would
 * be most of its cost. What a process sends on this allowance is told to the ledger at its next
 * sync of that mailbox (as debt), and the ledger grants only the budget less a reserve that covers
 * 10 processes spending their whole allowance on one mailbox in one window (a nightly run touches
 * a mailbox from one activity per service); a busier mailbox moves to synced grants ahead of need.
 *
 * Why token batches in Table Storage rather than a Durable entity: activities (and the CLI) can
 * reach the repository's tables directly with one conditional write, while an entity is reachable
 * only from orchestrations (or through the Durable client's queue, far slower than a Graph call);
 * and Table rows work the same for the CLI, which has no Durable host.
 */
export interface SharedGatesOptions {
  ledger: BudgetLedger;
  mailboxBudget?: MailboxBudget;
  tenantConcurrency?: number;
  /** A tenant-wide request budget (every request of this app to this tenant), when one is set. */
  tenantRate?: WindowLimit;
  /**
   * Hold of a token grant, as a fraction of its window (default 1/20, at least 2 s so storage latency
   * does not eat it): the longest a grant may be spent. A settled grant leaves the window at its last
   * send + window, so the hold costs budget only for grants never settled (a process that stopped).
   */
  holdFraction?: number;
  /** Slot lease lifetime: a dead process's slots come back after it (default 30 s). */
  slotTtlMs?: number;
  /** Renewal of held slots (default slotTtlMs / 6). */
  heartbeatMs?: number;
  /** This process's id in the rows (default host, pid and a random part). */
  holder?: string;
  /** Tokens per mailbox and window sent before a first ledger sync (default `mailboxAllowance(budget)`; 0: always sync). */
  mailboxAllowance?: number;
}

/** Processes whose whole allowance on one mailbox in one window the reserve covers. */
const ALLOWANCE_HOLDERS = 10;

/**
 * Unsynced tokens per mailbox and window: 1/200 of the budget (50 of Outlook's 10,000 per 10
 * minutes: the unchanged mail, calendar and contacts units of one mailbox, ~20 requests in the
 * scale bench), none for small budgets. The reserve (10 allowances, 5% of the budget) is kept out
 * of the ledger's grants, so the allowances of up to 10 processes fit beside them (a nightly run
 * reaches a mailbox from one activity per service).
 */
export function mailboxAllowance(budget: number): number {
  const a = Math.floor(budget / 200);
  return a >= 4 ? a : 0;
}

/** A pause read from storage is trusted up to 15 minutes (Retry-After is capped lower): an altered row cannot stall a tenant for long. */
const boundedPause = (until: number) => Math.min(until, Date.now() + 15 * 60_000);

/**
 * Tokens of one shared request window held by this process: its live grants (at most two: the
 * next one is taken ahead, when the current one is half spent or half expired, so no request waits
 * for storage while tokens are flowing) and what is left of them.
 */
class TokenBatch {
  pausedUntil = 0;
  waiting = 0;
  /** The largest cost a waiting request needs at once (a JSON batch costs its requests). */
  need = 1;
  private grants: { id: string; n: number; used: number; at: number; expires: number; last?: number; inFlight: number }[] = [];
  private debt = 0;
  /** When the last unsynced request (allowance or outside the gates) was sent: debt older than a window is owed to nobody. */
  private debtAt = 0;
  private seq = 0;
  private lastWant: number;
  /** Epoch ms before which the ledger has no tokens for us (the last refusal's retry time). */
  refusedUntil = 0;

  constructor(
    private readonly holder: string,
    readonly limit: WindowLimit,
    readonly holdMs: number,
    /** Tokens that may be spent before a first sync (`mailboxAllowance`); `limit` is then the ledger's share, the budget less the reserve. */
    readonly allowance = 0,
  ) {
    this.lastWant = Math.max(1, Math.ceil(this.maxBatch / 2));
  }

  /**
   * At most 1/8 of the budget per grant: what a process holds unspent the others cannot take until
   * it settles the grant (its next take, or its end: at most one hold), and grants are mostly spent
   * (the next one is taken only when the current one is half gone). Larger grants mean fewer storage
   * round trips per request; at a small budget, 1/20 was 2-3 tokens, a sync per two requests.
   */
  get maxBatch(): number {
    return Math.max(1, Math.floor(this.limit.budget / 8));
  }

  private live(now: number) {
    return this.grants.filter((g) => g.expires > now && g.used < g.n);
  }

  usable(now: number, cost: number): boolean {
    // A cost above the whole budget (a batch larger than a tiny test budget) passes on a full grant.
    const need = Math.min(cost, this.limit.budget);
    return this.live(now).some((g) => g.n - g.used >= need) || this.onAllowance(now, cost);
  }

  /**
   * Whether `cost` fits the unsynced allowance: no grant this window still counts in the ledger
   * (after one, this window's requests go through grants), no refusal pending, and what was sent
   * unsynced (not yet told to the ledger) plus `cost` within the allowance.
   */
  private onAllowance(now: number, cost: number): boolean {
    if (this.allowance === 0 || now < this.refusedUntil) return false;
    if (this.debt > 0 && now - this.debtAt > grantRetention(this.limit, this.holdMs)) this.debt = 0; // left Graph's window unsynced: owed to nobody
    // A grant counts in the ledger until its hold and a window after it have passed (budgetRules.grantEnd at the latest): then it is nobody's concern.
    this.grants = this.grants.filter((g) => g.inFlight > 0 || now < g.at + grantRetention(this.limit, this.holdMs));
    return this.grants.length === 0 && this.debt + cost <= this.allowance;
  }

  /** Every grant, settled as it stands (a process that ends: its tokens leave the window at its last send + window). */
  settleNow(): { id: string; used: number; last?: number }[] {
    const all = this.grants.map((g) => ({ id: g.id, used: g.used, ...(g.last !== undefined ? { last: g.last } : {}) }));
    this.grants = [];
    return all;
  }

  /** Time to take the next grant ahead: no live grant beyond the current one, and it is half spent or half expired. */
  wantsAhead(now: number): boolean {
    // After a refusal, the ledger said when tokens come back: asking ahead before then only costs storage.
    if (now < this.refusedUntil) return false;
    // On the allowance: sync only once three quarters of it are gone (a busy mailbox gets its grant before it runs out).
    if (this.grants.length === 0 && this.allowance > 0) return this.debt * 4 >= this.allowance * 3;
    const live = this.live(now);
    if (live.length !== 1) return live.length === 0;
    const g = live[0]!;
    return g.used * 2 >= g.n || now - g.at >= this.holdMs / 2;
  }

  /**
   * Takes `cost` tokens of a live grant; the returned function is called once the request has its
   * answer. A grant's `last` is the time of its last answer, not of its last send: Graph counted the
   * request on arrival, at most then, however late a loaded process got it on the wire.
   */
  spend(cost: number): () => void {
    const now = Date.now();
    const need = Math.min(cost, this.limit.budget);
    const g = this.live(now).find((x) => x.n - x.used >= need);
    if (!g) {
      // On the allowance (usable said so): owed to the ledger at the next sync of this row.
      this.debt += cost;
      this.debtAt = now;
      return () => undefined;
    }
    g.used = Math.min(g.n, g.used + cost);
    g.last = now;
    g.inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      g.inFlight--;
      g.last = Math.max(g.last ?? 0, Date.now());
    };
  }

  /** A request sent outside the gates (inside a JSON batch): taken from a grant, or owed to the next one. */
  count(): void {
    if (this.usable(Date.now(), 1)) this.spend(1)();
    else {
      this.debt++;
      this.debtAt = Date.now();
    }
  }

  request(): TakeRequest & { settleAll: { id: string; used: number; last?: number }[] } {
    const now = Date.now();
    const min = Math.min(this.limit.budget, this.need);
    // Over and with no request still waiting for its answer (that one would move its last send).
    const expired = this.grants.filter((g) => (g.expires <= now || g.used >= g.n) && g.inFlight === 0);
    const spentLast = expired.reduce((a, g) => a + g.used, 0);
    // Grow while grants run out before their hold ends; shrink to what was really sent when one expired unspent.
    const ranOut = expired.some((g) => g.used >= g.n && g.expires > now);
    const unspent = expired.some((g) => g.used < g.n);
    if (ranOut) this.lastWant = Math.min(this.maxBatch, 2 * Math.max(this.lastWant, spentLast));
    else if (unspent) this.lastWant = Math.max(1, Math.min(this.lastWant, spentLast));
    const want = Math.max(min, Math.min(this.maxBatch, Math.max(this.waiting, this.lastWant)));
    const settleAll = expired.map((g) => ({ id: g.id, used: g.used, ...(g.last !== undefined ? { last: g.last } : {}) }));
    return { holder: this.holder, id: `${this.holder}:${++this.seq}`, want: Math.min(this.limit.budget, want), min, debt: this.debt, limit: this.limit, holdMs: this.holdMs, settleAll };
  }

  accept(now: number, req: TakeRequest & { settleAll: { id: string; used: number; last?: number }[] }, r: TakeResult, pausedUntil: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, pausedUntil);
    const debt = req.debt ?? 0;
    this.debt -= debt;
    this.need = 1;
    this.refusedUntil = r.granted > 0 ? 0 : r.retryAt;
    // Only the grants this take settled leave our list. One spent (or expired) while the take was in
    // flight stays until the next take settles it: dropped unsettled, it would count its full n in the
    // row until at + hold + window instead of its last send + window (the budget lost between bursts).
    const settled = new Set(req.settleAll.map((x) => x.id));
    this.grants = this.grants.filter((g) => !settled.has(g.id));
    if (r.granted > 0 || debt > 0) this.grants.push({ id: req.id, n: r.granted + debt, used: debt, at: now, expires: now + this.holdMs, inFlight: 0 });
  }
}

const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '').slice(0, 24);

/** Holder ids are "<host>-<pid>-<random>": a holder of this host whose process is gone is dead now, not at its lease's end. */
export function holderAlive(id: string): boolean {
  const m = /^(.*)-(\d+)-[0-9a-f]+$/.exec(id);
  if (!m || m[1] !== HOST) return true;
  const pid = Number(m[2]);
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class SharedTenantGates implements RequestGates {
  readonly counters: GateCounters = { requests: 0, throttled: 0, retries: 0 };
  /** Ledger reads-and-writes done (for the budget benchmark: storage traffic per Graph request). */
  syncs = 0;
  /** The same, by why they were made (rate tokens, slots asked while starved, lease heartbeat, mailbox tokens, named windows, close). */
  readonly syncsBy: Record<string, number> = {};
  readonly holder: string;
  readonly mailboxBudget: MailboxBudget;
  private readonly ledger: BudgetLedger;
  private readonly concurrency: number;
  private readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private readonly holdFraction: number;
  private readonly allowance: number;
  private readonly rate?: TokenBatch;
  private readonly mailboxes = new Map<string, { slots: Semaphore; batch: TokenBatch; key: string; syncing?: Promise<number> }>();
  /** Mailbox pauses read from the tenant row, by row key (obeyed on the allowance, before the mailbox's own row is read). */
  private readonly mailboxPauses = new Map<string, number>();
  /** Named request windows of this app and tenant beyond the tenant rate (Teams' channel message limit), one row each. */
  private readonly windows = new Map<string, { batch: TokenBatch; key: string; syncing?: Promise<number> }>();
  private slotsHeld = 0;
  private active = 0;
  private slotWaiters = 0;
  private readonly wake = new Set<() => void>();
  private pausedUntil = 0;
  private tenantSync?: { tokens: boolean; promise: Promise<number> };
  private lastTenantSync = 0;
  private peak = 0;
  private readonly starvedRetryMs: number;
  /** The current wait between two asks for more slots: doubles (up to the heartbeat) while asking gains nothing. */
  private slotPollMs = 0;
  private timer?: NodeJS.Timeout;

  constructor(o: SharedGatesOptions) {
    this.ledger = o.ledger;
    this.mailboxBudget = o.mailboxBudget ?? OUTLOOK_BUDGET;
    this.concurrency = o.tenantConcurrency ?? 16;
    this.ttlMs = o.slotTtlMs ?? 30_000;
    this.heartbeatMs = o.heartbeatMs ?? Math.max(250, Math.floor(this.ttlMs / 6));
    this.holdFraction = o.holdFraction ?? 1 / 20;
    this.allowance = o.mailboxAllowance ?? mailboxAllowance(this.mailboxBudget.budget);
    this.starvedRetryMs = Math.min(this.heartbeatMs, 500);
    this.slotPollMs = this.starvedRetryMs;
    this.holder = o.holder ?? `${HOST}-${process.pid}-${randomBytes(4).toString('hex')}`;
    if (o.tenantRate) this.rate = new TokenBatch(this.holder, o.tenantRate, this.holdOf(o.tenantRate.windowMs));
  }

  private holdOf(windowMs: number): number {
    return Math.max(Math.min(2000, windowMs / 2), Math.floor(windowMs * this.holdFraction));
  }

  private mailbox(mailbox: string) {
    let m = this.mailboxes.get(mailbox);
    if (!m) {
      const key = `mb-${createHash('sha256').update(mailbox).digest('hex').slice(0, 32)}`;
      // The ledger grants the budget less the reserve that covers the unsynced allowances.
      const reserve = Math.min(this.mailboxBudget.budget - 1, ALLOWANCE_HOLDERS * this.allowance);
      const limit = { budget: this.mailboxBudget.budget - reserve, windowMs: this.mailboxBudget.windowMs };
      m = { slots: new Semaphore(this.mailboxBudget.concurrency), batch: new TokenBatch(this.holder, limit, this.holdOf(limit.windowMs), this.allowance), key };
      m.batch.pausedUntil = this.mailboxPauses.get(key) ?? 0;
      this.mailboxes.set(mailbox, m);
    }
    return m;
  }

  async enter(mailbox: string | undefined, cost = 1): Promise<() => void> {
    const m = mailbox ? this.mailbox(mailbox) : undefined;
    let mailboxAnswered: (() => void) | undefined;
    let rateAnswered: (() => void) | undefined;
    // The allowance skips the mailbox's row, not the tenant's: a pause another process was told about is read there first.
    if (m && this.allowance > 0 && this.lastTenantSync === 0) await this.syncTenant(false, 'slots');
    if (m) {
      await m.slots.acquire();
      try {
        mailboxAnswered = await this.takeMailbox(m, cost);
      } catch (e) {
        m.slots.release();
        throw e;
      }
    }
    let slots = 0;
    try {
      slots = await this.acquireSlot(slotsFor(cost));
    } catch (e) {
      mailboxAnswered?.();
      m?.slots.release();
      throw e;
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      mailboxAnswered?.();
      rateAnswered?.();
      this.active -= slots;
      for (const w of this.wake) w();
      m?.slots.release();
    };
    try {
      if (this.rate) rateAnswered = await this.takeRate(cost);
      for (let pause = this.pausedUntil - Date.now(); pause > 0; pause = this.pausedUntil - Date.now()) await sleep(pause);
    } catch (e) {
      release();
      throw e;
    }
    this.counters.requests++;
    return release;
  }

  count(mailbox: string | undefined): void {
    if (mailbox) this.mailbox(mailbox).batch.count();
  }

  pause(mailbox: string | undefined, ms: number): void {
    const until = Date.now() + ms;
    const key = mailbox ? this.mailbox(mailbox).key : 'tenant';
    if (mailbox) {
      const b = this.mailbox(mailbox).batch;
      b.pausedUntil = Math.max(b.pausedUntil, until);
    } else this.pausedUntil = Math.max(this.pausedUntil, until);
    const writes: Promise<unknown>[] = [this.ledger.update(key, (s) => pauseUntil(s, until))];
    // Also in the tenant row, which a process sending on a mailbox's allowance has read (its mailbox row it has not).
    if (mailbox && this.allowance > 0) writes.push(this.ledger.update('tenant', (s) => noteMailboxPause(s, key, until, Date.now())));
    this.pending = Promise.all(writes)
      .then(() => undefined)
      .catch(() => undefined); // the pause holds in this process anyway; others learn it from Graph
  }

  /** The last pause write (tests and a clean shutdown wait for it). */
  pending: Promise<void> = Promise.resolve();

  /** Gives back this process's slots (a process that ends; a dead one's come back after the TTL). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.pending;
    if (this.lastTenantSync === 0) return;
    await Promise.all(
      [...this.windows.values()].map((w) => {
        const done = w.batch.settleNow();
        return done.length ? this.ledger.update(w.key, (s) => ({ next: settleGrants(s, done), result: undefined })).catch(() => undefined) : undefined;
      }),
    );
    const settle = this.rate?.settleNow() ?? [];
    await this.ledger.update('tenant', (s) => leaseSlots(settleGrants(s, settle), Date.now(), { holder: this.holder, want: 0, inUse: 0, limit: this.concurrency, ttlMs: this.ttlMs, alive: holderAlive })).catch(() => undefined);
    this.slotsHeld = 0;
  }

  /**
   * One request under a named window shared by every process of the tenant (row `key`, e.g.
   * Teams' 60 message delta and replies requests a minute per app per tenant): the same token
   * grants as a mailbox's window, so any number of instances together stay inside `limit`.
   */
  async takeWindow(key: string, limit: WindowLimit): Promise<void> {
    let w = this.windows.get(key);
    if (!w) this.windows.set(key, (w = { batch: new TokenBatch(this.holder, limit, this.holdOf(limit.windowMs)), key }));
    // The caller sends right away and keeps no handle: the take counts as answered now (the margin covers the send).
    (await this.takeMailbox(w, 1))();
  }

  // ---- per-mailbox request windows ----

  private async takeMailbox(m: { batch: TokenBatch; key: string; syncing?: Promise<number> }, cost: number): Promise<() => void> {
    const b = m.batch;
    b.waiting++;
    try {
      for (;;) {
        const now = Date.now();
        if (b.pausedUntil > now) {
          await sleep(b.pausedUntil - now);
          continue;
        }
        if (b.usable(now, cost)) {
          const answered = b.spend(cost);
          if (b.wantsAhead(Date.now()) && !m.syncing) m.syncing = this.syncMailbox(m).catch(() => 0).finally(() => (m.syncing = undefined));
          return answered;
        }
        b.need = Math.max(b.need, cost);
        // A refusal said when tokens come back: a request arriving meanwhile waits for then, not asks again.
        if (b.refusedUntil > Date.now()) {
          await sleep(b.refusedUntil - Date.now());
          continue;
        }
        m.syncing ??= this.syncMailbox(m).finally(() => (m.syncing = undefined));
        const retryAt = await m.syncing;
        if (!b.usable(Date.now(), cost) && retryAt > Date.now()) await sleep(retryAt - Date.now());
      }
    } finally {
      b.waiting--;
    }
  }

  private async syncMailbox(m: { batch: TokenBatch; key: string }): Promise<number> {
    const b = m.batch;
    const req = b.request();
    let at = 0;
    const { take, paused } = await this.retrying(() =>
      this.ledger.update(m.key, (s) => {
        at = Date.now();
        const t = takeTokens(settleGrants(s, req.settleAll), at, req);
        return { next: t.next, result: { take: t.result, paused: s.pausedUntil } };
      }),
      'mailbox',
    );
    b.accept(at, req, take, boundedPause(paused));
    return take.granted > 0 ? 0 : take.retryAt;
  }

  // ---- tenant row: slot leases, the tenant-wide rate, the tenant pause ----

  /**
   * Waits until `n` of the slots this process holds are free and takes them (a JSON batch holds
   * several: slotsFor). Returns how many it took: never more than the process holds, so a share
   * smaller than a batch (two processes splitting a small cap) still lets the batch run.
   */
  private async acquireSlot(n = 1): Promise<number> {
    this.slotWaiters += n;
    this.peak = Math.max(this.peak, this.active + this.slotWaiters);
    try {
      for (;;) {
        const need = Math.min(n, Math.max(1, this.slotsHeld));
        if (this.active + need <= this.slotsHeld) {
          this.active += need;
          return need;
        }
        // Ask the ledger for more (at most every starvedRetryMs, and only if we do not hold the whole
        // cap); otherwise wait for one of ours to come back.
        const since = Date.now() - this.lastTenantSync;
        if (this.slotsHeld < this.concurrency && since >= this.slotPollMs) {
          // The other processes hold the rest while they use it: asking again at once would only
          // cost storage. Back off while an ask gains nothing; a slot given back is seen at the next ask.
          const held = this.slotsHeld;
          await this.syncTenant(false, 'slots');
          this.slotPollMs = this.slotsHeld > held ? this.starvedRetryMs : Math.min(this.heartbeatMs, 2 * this.slotPollMs);
          continue;
        }
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(t);
            this.wake.delete(done);
            resolve();
          };
          const t = setTimeout(done, Math.max(1, this.slotPollMs - since));
          this.wake.add(done);
        });
      }
    } finally {
      this.slotWaiters -= n;
    }
  }

  private async takeRate(cost: number): Promise<() => void> {
    const b = this.rate!;
    b.waiting++;
    try {
      for (;;) {
        if (b.usable(Date.now(), cost)) {
          const answered = b.spend(cost);
          if (b.wantsAhead(Date.now()) && !this.tenantSync) void this.syncTenant(true, 'rate-ahead').catch(() => undefined);
          return answered;
        }
        b.need = Math.max(b.need, cost);
        // A refusal said when tokens come back: a request arriving meanwhile waits for then, not asks again.
        if (b.refusedUntil > Date.now()) {
          await sleep(b.refusedUntil - Date.now());
          continue;
        }
        const retryAt = await this.syncTenant(true, 'rate');
        if (!b.usable(Date.now(), cost) && retryAt > Date.now()) await sleep(retryAt - Date.now());
      }
    } finally {
      b.waiting--;
    }
  }

  /** One read-and-write of the tenant row (coalesced): renews our slot lease, takes rate tokens if asked. Returns the rate's retry time. */
  private async syncTenant(tokens: boolean, why: string): Promise<number> {
    while (this.tenantSync) {
      const inFlight = this.tenantSync;
      const r = await inFlight.promise;
      if (!tokens || inFlight.tokens) return r;
    }
    const run = { tokens, promise: this.doSyncTenant(tokens, why).finally(() => (this.tenantSync = undefined)) };
    this.tenantSync = run;
    return run.promise;
  }

  private async doSyncTenant(tokens: boolean, why: string): Promise<number> {
    const req = tokens && this.rate ? this.rate.request() : undefined;
    // What we ask for: the most requests we had in flight or waiting since the last sync (not just
    // this instant's), so a busy process does not give slots back between two bursts.
    const want = Math.min(this.concurrency, Math.max(this.peak, this.active + this.slotWaiters));
    this.peak = this.active + this.slotWaiters;
    let at = 0;
    const r = await this.retrying(() =>
      this.ledger.update('tenant', (s: BudgetState) => {
        at = Date.now();
        const lease = leaseSlots(s, at, { holder: this.holder, want, inUse: this.active, limit: this.concurrency, ttlMs: this.ttlMs, alive: holderAlive });
        // A lower share applies at once (before the write): no request may start on a slot we are giving back.
        this.slotsHeld = Math.min(this.slotsHeld, lease.result);
        const take = req ? takeTokens(settleGrants(lease.next, req.settleAll), at, req) : undefined;
        return { next: take?.next ?? lease.next, result: { slots: lease.result, take: take?.result, paused: s.pausedUntil, mailboxPauses: s.mailboxPauses ?? [] } };
      }),
      why,
    );
    this.lastTenantSync = Date.now();
    this.slotsHeld = r.slots;
    this.pausedUntil = Math.max(this.pausedUntil, boundedPause(r.paused));
    this.learnMailboxPauses(r.mailboxPauses);
    if (req && r.take) this.rate!.accept(at, req, r.take, boundedPause(r.paused));
    for (const w of this.wake) w();
    this.heartbeat();
    return r.take && r.take.granted === 0 ? r.take.retryAt : 0;
  }

  private learnMailboxPauses(pauses: { key: string; until: number }[]): void {
    const now = Date.now();
    for (const [k, until] of this.mailboxPauses) if (until <= now) this.mailboxPauses.delete(k);
    for (const p of pauses) {
      if (p.until <= now) continue;
      const until = boundedPause(p.until);
      this.mailboxPauses.set(p.key, Math.max(this.mailboxPauses.get(p.key) ?? 0, until));
    }
    for (const m of this.mailboxes.values()) {
      const until = this.mailboxPauses.get(m.key);
      if (until) m.batch.pausedUntil = Math.max(m.batch.pausedUntil, until);
    }
  }

  /** Renews held slots while we hold any or wait for some; stops when we hold none. */
  private heartbeat(): void {
    const needed = this.slotsHeld > 0 || this.slotWaiters > 0 || this.active > 0;
    if (needed && !this.timer) {
      // Every sync renews the lease: a beat right after a token take would only cost storage.
      this.timer = setInterval(() => {
        if (Date.now() - this.lastTenantSync >= this.heartbeatMs / 2) void this.syncTenant(false, 'heartbeat').catch(() => undefined);
      }, this.heartbeatMs);
      this.timer.unref();
    } else if (!needed && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Storage hiccups are retried a few times before the request fails (and its item is retried next run). */
  private async retrying<T>(op: () => Promise<T>, why = 'other'): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.syncs++;
        this.syncsBy[why] = (this.syncsBy[why] ?? 0) + 1;
        return await op();
      } catch (e) {
        if (attempt >= 5) throw e;
        await sleep(100 * 2 ** attempt);
      }
    }
  }
}
