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
 * budget. Once a grant is over, the holder's next take settles it: n lowered to what it really
 * sent, and `last` (its last send) set, after which it leaves the row at last + window + margin
 * (any window holding one of its sends still sees it), so a long hold costs nothing once settled.
 */
export interface WindowLimit {
  budget: number;
  windowMs: number;
}

/** Grants kept at most (older ones are merged, conservatively, into the later one). */
export const MAX_GRANTS = 200;

export const windowMargin = (windowMs: number) => Math.min(2000, Math.ceil(windowMs / 100));
export const grantRetention = (limit: WindowLimit, holdMs: number) => limit.windowMs + holdMs + windowMargin(limit.windowMs);
/** When a grant leaves the window: its last send + window once settled, else its start + hold + window. */
export const grantEnd = (g: BudgetGrant, limit: WindowLimit, holdMs: number) => (g.last !== undefined ? g.last + limit.windowMs + windowMargin(limit.windowMs) : g.at + grantRetention(limit, holdMs));

export interface TakeRequest {
  holder: string;
  /** The new grant's id ("<holder>:<seq>"). */
  id: string;
  want: number;
  /** Fewer than this is no use (the request waiting costs this much): grant nothing rather than less. */
  min?: number;
  /** Tokens already sent outside any grant (requests inside a JSON batch): recorded with the grant, not handed out. */
  debt?: number;
  limit: WindowLimit;
  holdMs: number;
  /** The holder's previous grant, now over: lowered to the tokens it really sent, the last at `last`. */
  settle?: { id: string; used: number; last?: number };
}

export interface TakeResult {
  granted: number;
  /** When granted is 0: the epoch ms at which the oldest grant leaves the window. */
  retryAt: number;
}

export function takeTokens(state: BudgetState, now: number, r: TakeRequest): { next: BudgetState; result: TakeResult } {
  const end = (g: BudgetGrant) => grantEnd(g, r.limit, r.holdMs);
  let grants = (r.settle ? settleGrants(state, [r.settle]).grants : state.grants).filter((g) => end(g) > now);
  const used = grants.reduce((a, g) => a + g.n, 0);
  const debt = Math.max(0, r.debt ?? 0);
  const free = r.limit.budget - used - debt;
  const granted = free >= Math.max(1, r.min ?? 1) ? Math.min(Math.max(r.want, r.min ?? 1), free) : 0;
  if (granted > 0 || debt > 0) grants.push({ id: r.id, at: now, n: granted + debt });
  const retryAt = granted > 0 ? now : whenFree(grants, free, Math.max(1, r.min ?? 1, Math.min(r.want, r.limit.budget)), end, now + grantRetention(r.limit, r.holdMs) + 1);
  return { next: { ...state, grants: compact(grants) }, result: { granted, retryAt } };
}

/**
 * When a refused holder should ask again: once `target` tokens (what it wants) will have left the
 * window, not at the first grant's end. Asking at every end costs every waiting process a storage
 * round trip per grant freed, and all but one of them come away empty.
 */
function whenFree(grants: BudgetGrant[], free: number, target: number, end: (g: BudgetGrant) => number, latest: number): number {
  let acc = free;
  for (const g of [...grants].sort((a, b) => end(a) - end(b))) {
    acc += g.n;
    if (acc >= target) return end(g) + 1;
  }
  return latest;
}

/** Lowers expired grants of a holder to the tokens they really sent (several at once). */
export function settleGrants(state: BudgetState, settle: { id: string; used: number; last?: number }[]): BudgetState {
  if (settle.length === 0) return state;
  const by = new Map(settle.map((x) => [x.id, x]));
  return {
    ...state,
    grants: state.grants.flatMap((g) => {
      const x = by.get(g.id);
      if (!x) return [g];
      if (x.used <= 0) return [];
      return [{ ...g, n: Math.min(g.n, x.used), ...(x.last !== undefined ? { last: Math.max(g.at, Math.min(x.last, g.at + 10 * 24 * 3600_000)) } : {}) }];
    }),
  };
}

/** Keeps the row bounded: merges the oldest grants into their successor (a later `at` only keeps them longer). */
export function compact(grants: BudgetGrant[]): BudgetGrant[] {
  if (grants.length <= MAX_GRANTS) return grants;
  const sorted = [...grants].sort((a, b) => a.at - b.at);
  while (sorted.length > MAX_GRANTS) {
    const [a, b] = sorted.splice(0, 2) as [BudgetGrant, BudgetGrant];
    // The merged grant ends when the later of the two would: keep b's start and the later last send.
    const last = a.last === undefined || b.last === undefined ? undefined : Math.max(a.last, b.last);
    sorted.unshift({ id: 'merged', at: Math.max(a.at, b.at), n: a.n + b.n, ...(last !== undefined ? { last } : {}) });
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

/**
 * Returns the next state and `admit`: how many requests this holder may have in flight from now on.
 * A holder due fewer slots than it uses admits only its due share at once, while the row keeps what
 * is still in use until those requests finish (the next sync records the lower number).
 */
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
  return { next: { ...state, holders }, result: Math.min(slots, due) };
}

/** Mailbox pauses kept in the tenant row: Graph pauses few mailboxes at once; beyond this the latest-ending are kept. */
export const MAX_MAILBOX_PAUSES = 64;

/** Adds a mailbox pause to the tenant row's list (expired ones dropped, bounded). */
export function noteMailboxPause(state: BudgetState, key: string, until: number, now: number): { next: BudgetState | undefined; result: undefined } {
  const others = (state.mailboxPauses ?? []).filter((p) => p.until > now && p.key !== key);
  const known = state.mailboxPauses?.find((p) => p.key === key);
  if (known && known.until >= until) return { next: undefined, result: undefined };
  const list = [...others, { key, until }].sort((a, b) => b.until - a.until).slice(0, MAX_MAILBOX_PAUSES);
  return { next: { ...state, mailboxPauses: list }, result: undefined };
}

/** Graph said "slow down": nobody sends before `until`. */
export function pauseUntil(state: BudgetState, until: number): { next: BudgetState | undefined; result: number } {
  if (state.pausedUntil >= until) return { next: undefined, result: state.pausedUntil };
  return { next: { ...state, pausedUntil: until }, result: until };
}
