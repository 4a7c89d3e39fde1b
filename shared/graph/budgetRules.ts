import type { BudgetGrant, BudgetState, SlotHolder } from './budgetLedger';

/**
 * The pure rules of shared Graph budgets, applied inside a ledger's read-modify-write (so every
 * process sees the others' grants, leases and pauses). No I/O, no clock: `now` is passed in.
 *
 * Request windows ("at most `budget` requests per sliding `windowMs`", Graph counting arrivals):
 * a process takes a grant of n tokens at `at` and may send them until at + hold. A grant is kept in
 * the row for window + hold + margin after `at`: any Graph window of length `windowMs` then sees
 * only grants that were all in the row together when the last of them was taken, and that check
 * kept their sum within the budget. The margin (1% of the window, at most 2 s) covers the latency
 * between our send and Graph's arrival. Steady-state use is window / (window + hold + margin) of the
 * budget (95% with hold = window / 20). Unused tokens of an expired grant are given back by the
 * holder's next take (its grant's n lowered to what it sent).
 */
export interface WindowLimit {
  budget: number;
  windowMs: number;
}

/** Grants kept at most (older ones are merged, conservatively, into the later one). */
export const MAX_GRANTS = 200;

export const windowMargin = (windowMs: number) => Math.min(2000, Math.ceil(windowMs / 100));
export const grantRetention = (limit: WindowLimit, holdMs: number) => limit.windowMs + holdMs + windowMargin(limit.windowMs);

export interface TakeRequest {
  holder: string;
  /** The new grant's id ("<holder>:<seq>"). */
  id: string;
  want: number;
  /** Tokens already sent outside any grant (requests inside a JSON batch): recorded with the grant, not handed out. */
  debt?: number;
  limit: WindowLimit;
  holdMs: number;
  /** The holder's previous grant, now expired: lowered to the tokens it really sent. */
  settle?: { id: string; used: number };
}

export interface TakeResult {
  granted: number;
  /** When granted is 0: the epoch ms at which the oldest grant leaves the window. */
  retryAt: number;
}

export function takeTokens(state: BudgetState, now: number, r: TakeRequest): { next: BudgetState; result: TakeResult } {
  const keep = grantRetention(r.limit, r.holdMs);
  let grants = state.grants.filter((g) => g.at > now - keep);
  if (r.settle) {
    const s = r.settle;
    grants = grants.flatMap((g) => (g.id !== s.id ? [g] : s.used > 0 ? [{ ...g, n: Math.min(g.n, s.used) }] : []));
  }
  const used = grants.reduce((a, g) => a + g.n, 0);
  const debt = Math.max(0, r.debt ?? 0);
  const free = r.limit.budget - used - debt;
  const granted = Math.max(0, Math.min(r.want, free));
  if (granted > 0 || debt > 0) grants.push({ id: r.id, at: now, n: granted + debt });
  const retryAt = granted > 0 ? now : Math.min(...grants.map((g) => g.at + keep + 1), now + keep + 1);
  return { next: { ...state, grants: compact(grants) }, result: { granted, retryAt } };
}

/** Keeps the row bounded: merges the oldest grants into their successor (a later `at` only keeps them longer). */
export function compact(grants: BudgetGrant[]): BudgetGrant[] {
  if (grants.length <= MAX_GRANTS) return grants;
  const sorted = [...grants].sort((a, b) => a.at - b.at);
  while (sorted.length > MAX_GRANTS) {
    const [a, b] = sorted.splice(0, 2) as [BudgetGrant, BudgetGrant];
    sorted.unshift({ id: 'merged', at: b.at, n: a.n + b.n });
  }
  return sorted;
}

/**
 * Concurrency as slot leases: each live process holds `slots` of the tenant's cap until its lease
 * `expires` (renewed by every sync, so a dead process's slots come back after one TTL). A process
 * grows only into free slots; when the processes together want more than the cap, each is due a
 * share in proportion to what it wants, and one holding more gives back what it does not use as
 * its requests finish. The sum of held slots never exceeds the cap.
 */
export interface SlotRequest {
  holder: string;
  /** Requests in flight plus waiting, capped at the limit. */
  want: number;
  /** Slots in use right now (never given back while in use). */
  inUse: number;
  limit: number;
  ttlMs: number;
  /** False for a holder known to be gone (a process of this host that no longer runs): its slots come back at once. */
  alive?: (holder: string) => boolean;
}

export function leaseSlots(state: BudgetState, now: number, r: SlotRequest): { next: BudgetState; result: number } {
  const live = state.holders.filter((h) => h.expires > now && (h.id === r.holder || !r.alive || r.alive(h.id)));
  const me = live.find((h) => h.id === r.holder);
  const others = live.filter((h) => h.id !== r.holder);
  const current = me?.slots ?? 0;
  const want = Math.min(r.limit, Math.max(0, r.want));
  const othersSlots = others.reduce((a, h) => a + h.slots, 0);
  const totalWant = others.reduce((a, h) => a + Math.min(r.limit, h.want), 0) + want;
  const due = totalWant <= r.limit ? want : Math.max(want > 0 ? 1 : 0, Math.floor((r.limit * want) / totalWant));
  const slots = due > current ? Math.max(current, Math.min(due, r.limit - othersSlots)) : Math.min(current, Math.max(due, r.inUse));
  const holders: SlotHolder[] = slots > 0 || want > 0 ? [...others, { id: r.holder, slots, want, expires: now + r.ttlMs }] : others;
  return { next: { ...state, holders }, result: slots };
}

/** Graph said "slow down": nobody sends before `until`. */
export function pauseUntil(state: BudgetState, until: number): { next: BudgetState | undefined; result: number } {
  if (state.pausedUntil >= until) return { next: undefined, result: state.pausedUntil };
  return { next: { ...state, pausedUntil: until }, result: until };
}
