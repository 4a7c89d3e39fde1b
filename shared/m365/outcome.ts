import type { Service } from './services';

/** What backing up one service of one user did: counts only, small enough for Durable history. */
export interface ServiceOutcome {
  service: Service;
  status: 'complete' | 'partial' | 'failed';
  snapshot: number;
  items: number;
  fetched: number;
  fetchedBytes: number;
  removed: number;
  failed: number;
  /** Work units this service took (each one commits a snapshot, except an unchanged one). */
  units?: number;
  /** Nothing changed since `snapshot` (the previous one): no snapshot was committed, only the cursors moved. */
  unchanged?: boolean;
}

/**
 * Whether a service's outcome is recorded in a batch row of the run log rather than a row of its
 * own (shared/backup/m365/runRecords.ts): unchanged, complete, nothing failed, one work unit.
 */
export const recordedInBatch = (o: Pick<ServiceOutcome, 'unchanged' | 'status' | 'failed' | 'units'> & { unit?: number }) =>
  o.unchanged === true && o.status === 'complete' && o.failed === 0 && (o.unit ?? 1) === 1 && (o.units ?? 1) === 1;

export interface ItemFailure {
  id: string;
  reason: string;
}

/** The run log's record: the outcome with whom it was for and what failed (personal data: sealed). */
export interface LoggedOutcome extends ServiceOutcome {
  unit?: number;
  userId: string;
  userPrincipalName: string;
  failures: ItemFailure[];
  host: string;
}

/** A service's outcome over several work units: counts add up, the later unit's snapshot and status stand. */
export function mergeOutcomes<T extends ServiceOutcome>(earlier: T | undefined, later: T): T {
  if (!earlier) return { ...later, units: later.units ?? 1 };
  return {
    ...later,
    fetched: earlier.fetched + later.fetched,
    fetchedBytes: earlier.fetchedBytes + later.fetchedBytes,
    removed: earlier.removed + later.removed,
    failed: earlier.failed + later.failed,
    units: (earlier.units ?? 1) + (later.units ?? 1),
  };
}

/** A whole run's counts, added up service by service. */
export interface RunTotals {
  users: number;
  services: number;
  items: number;
  fetched: number;
  fetchedBytes: number;
  removed: number;
  failed: number;
  partial: number;
}

export const emptyTotals = (): RunTotals => ({ users: 0, services: 0, items: 0, fetched: 0, fetchedBytes: 0, removed: 0, failed: 0, partial: 0 });

export function addOutcome(t: RunTotals, o: ServiceOutcome): RunTotals {
  return {
    ...t,
    services: t.services + 1,
    items: t.items + o.items,
    fetched: t.fetched + o.fetched,
    fetchedBytes: t.fetchedBytes + o.fetchedBytes,
    removed: t.removed + o.removed,
    failed: t.failed + o.failed,
    partial: t.partial + (o.status === 'complete' ? 0 : 1),
  };
}

/**
 * The reason a whole part (user x service) failed, as its report shows it: the error's first line
 * without its class name ("BackupError: "), at most 240 characters. One rule for the Function
 * App's restore orchestration and the CLI's restore into Microsoft 365.
 */
export function partFailureReason(message: string): string {
  return message.split('\n')[0]!.replace(/^\w*Error: /, '').slice(0, 240);
}
