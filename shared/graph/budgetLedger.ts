/**
 * Where Graph budgets shared by every process of a tenant are kept. `shared/graph` defines this
 * contract and the rules that run on it (`budgetRules.ts`); the storage side lives in `shared/repo`
 * (`graphBudgetLedger.ts`, a Table row per budget read and written with If-Match), so graph/ never
 * touches storage and repo/ never imports graph/ (TypeScript matches the two structurally).
 *
 * A budget row holds no secret and nothing that grows with the tenant: short-lived grants of request
 * tokens (bounded by compaction), one slot lease per live process, and the "slow down" pause.
 */

/** Request tokens handed to one process at `at` (epoch ms): up to `n` requests, sent before at + hold. */
export interface BudgetGrant {
  /** Holder id and grant number, "<holder>:<seq>": the holder lowers its own `n` to what it really sent. */
  id: string;
  at: number;
  n: number;
  /** Set once the grant is over (settled): the time of its last request. It then leaves the window at last + window. */
  last?: number;
}

/** One process's share of the concurrency cap: `slots` held, `want` asked for, lease valid until `expires`. */
export interface SlotHolder {
  id: string;
  slots: number;
  want: number;
  expires: number;
}

export interface BudgetState {
  grants: BudgetGrant[];
  holders: SlotHolder[];
  /** Epoch ms before which nobody sends (Graph said 429/503 with Retry-After); 0 for none. */
  pausedUntil: number;
  /**
   * Tenant row only: the mailbox pauses still running (row key and end), so a process about to send
   * on a mailbox's unsynced allowance, which has read the tenant row but not that mailbox's, obeys
   * them too. Bounded (budgetRules.MAX_MAILBOX_PAUSES, the latest-ending kept).
   */
  mailboxPauses?: { key: string; until: number }[];
}

export const emptyBudgetState = (): BudgetState => ({ grants: [], holders: [], pausedUntil: 0 });

/**
 * Optimistic read-modify-write of small budget rows, one per key ("tenant", "mb-<hash>"). `change`
 * gets the row as stored (or an empty state) and the storage-side clock is not used: every time is
 * the caller's `Date.now()`. The write happens only if nobody wrote in between; on a conflict the
 * ledger reads again and calls `change` again, so `change` must be pure. `next: undefined` = no write.
 */
export interface BudgetLedger {
  update<T>(key: string, change: (state: BudgetState) => { next?: BudgetState; result: T }): Promise<T>;
  read(key: string): Promise<BudgetState>;
}
