import type { Service } from '../shared/graph';

/**
 * Inputs and outputs of orchestrations and activities. They hold names, ids and counts only: never a
 * password, key, secret, token or item content (Durable history stores them in the clear).
 */
export interface BackupTenantInput {
  tenant: string;
  services: Service[];
  /** One user only (UPN or id). */
  user?: string;
  /** Users already done by earlier generations (continueAsNew). */
  offset?: number;
  users?: UserRef[];
  totals?: RunTotals;
}

export interface UserRef {
  id: string;
  upn: string;
  displayName: string;
  services: Service[];
}

export interface BackupUserInput {
  tenant: string;
  runId: string;
  user: UserRef;
}

export interface BackupServiceInput {
  tenant: string;
  runId: string;
  userId: string;
  userPrincipalName: string;
  service: Service;
  /** 1 for the first work unit of this service in this run, 2 for the one continuing it, ... */
  unit?: number;
}

export type { ServiceOutcome } from '../shared/backup/m365/runLog';
import type { ServiceOutcome } from '../shared/backup/m365/runLog';

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
