import type { RunTotals, Service } from '../shared/m365';
import type { RestoreJobRef } from '../shared/restore/m365/restoreJob';
import type { PruneResult } from '../shared/repo';
import type { M365UnitCounts } from '../shared/restore/m365/write/m365Job';

/**
 * Inputs and outputs of orchestrations and activities. They hold names, ids, indexes and counts only:
 * never a password, key, secret, token, item content or personal data such as a UPN (Durable history
 * stores them in the clear), and nothing whose size grows with the tenant: the run's users are in
 * the run log in storage (the roster), addressed by index. test/architecture checks the sizes.
 */
export interface BackupTenantInput {
  tenant: string;
  services: Service[];
  /** One user only (UPN or id): the admin's own input, not read from the directory. */
  user?: string;
  parallelism?: number;
  runId?: string;
  /** Set by continueAsNew: users already done by earlier generations, and how many there are. */
  offset?: number;
  userCount?: number;
  totals?: RunTotals;
  /** Set by continueAsNew: the measured duration of a range of users (ms), for the poll interval. */
  rangeMs?: number;
}

/** A range of consecutive roster indexes, backed up one user after another (the unit of the tenant's sliding window). */
export interface BackupUserRangeInput {
  tenant: string;
  runId: string;
  from: number;
  count: number;
  services: Service[];
}

/** One lane of a user's services (Exchange: mail, calendar, contacts; files: OneDrive), run in order. */
export interface BackupLaneInput {
  tenant: string;
  runId: string;
  index: number;
  services: Service[];
}

export interface BeginRunInput {
  tenant: string;
  runId: string;
  services: Service[];
  user?: string;
}

/** Either the number of users in the roster, or why the run cannot start (another run holds the tenant). */
export type BeginRunOutput = { users: number } | { refused: string };

export interface BackupUserInput {
  tenant: string;
  runId: string;
  /** The user's index in the run's roster. */
  index: number;
  services: Service[];
}

/** The unchanged (user, service) outcomes of a range (roster index, service, the previous snapshot): at most range size x services entries. */
export interface RecordUnchangedInput {
  tenant: string;
  runId: string;
  from: number;
  entries: { index: number; service: Service; snapshot: number; items: number }[];
}

export interface BackupServiceInput {
  tenant: string;
  runId: string;
  index: number;
  service: Service;
  /** 1 for the first work unit of this service in this run, 2 for the one continuing it, ... */
  unit?: number;
}

export interface FinishRunInput {
  tenant: string;
  runId: string;
  totals: RunTotals;
}

/** The restore's input: names, the restore's selection and a session id (the key is in the Key Vault-wrapped session row). */
export interface RestoreInput {
  tenant: string;
  sessionId: string;
  user?: string;
  services: Service[];
  at?: string;
  /** Selected item or folder ids of `user` (the console's checkboxes; opaque Graph ids, no names): only these are in the zip. */
  items?: string[];
  /** Users whose part of the zip is written at once (default RESTORE_PART_PARALLELISM). */
  parallelism?: number;
}

/** What each part of a restore's zip (one user) reports to the orchestration: counts only. */
export interface RestorePartCounts {
  part: number;
  files: number;
  bytes: number;
  failureCount: number;
}

/** The orchestration's output: counts only (failure paths stay sealed beside the zip). */
export interface RestoreOutput {
  files: number;
  bytes: number;
  zipBytes: number;
  failureCount: number;
  expires: string;
}

/**
 * A restore back into Microsoft 365 (POST /api/restores with destination in-place or user): the
 * selection, where it goes, the conflict mode and the folder prefix as the admin gave them.
 */
export interface M365RestoreInput {
  tenant: string;
  sessionId: string;
  user?: string;
  services: Service[];
  at?: string;
  destination: 'in-place' | 'user';
  /** The user written into (destination "user"): the admin's own input, like `user`. */
  targetUser?: string;
  /** A SharePoint site (URL or id, as given) whose libraries go back into it; the admin's own input, like `user`. */
  site?: string;
  conflict: 'skip' | 'rename' | 'replace';
  path?: string;
  /** Selected item or folder ids of `user` (the console's checkboxes; opaque Graph ids, no names): only these are restored. */
  items?: string[];
  /** Parts (user x service) written at once (default M365_RESTORE_PARALLELISM). */
  parallelism?: number;
}

/** One work unit of a restore into Microsoft 365: part (user x service) and unit number. */
export interface M365UnitInput {
  tenant: string;
  restoreId: string;
  sessionId: string;
  part: number;
  unit: number;
  conflict: 'skip' | 'rename' | 'replace';
  toUser: boolean;
}

/** What a unit reports: counts only (failures are sealed in the repository). */
export type M365UnitOutput = M365UnitCounts;

/** What each restore step gets: the tenant, the restore id and its session id. */
export type RestoreStepInput = { tenant: string } & RestoreJobRef;

export type { ServiceOutcome, RunTotals } from '../shared/m365';
export { addOutcome, emptyTotals } from '../shared/m365';

/** The weekly (or on-demand) retention run of one tenant: forget by the stored policy, then prune. */
export interface PruneTenantInput {
  tenant: string;
  dryRun: boolean;
  /** 'pay': delete dead packs inside their tier minimum now (the API's deleteEarly). */
  earlyDeletion: 'defer' | 'pay';
  /** A restore session holding the private key (POST /api/prune with the password): prune repacks partly used packs. */
  sessionId?: string;
}

/** One page of the tenant's directory: its users' partitions are forgotten by the policy. */
export interface ForgetPageInput {
  tenant: string;
  dryRun: boolean;
  /** Directory cursor (an opaque row key, no personal data); absent for the first page. */
  after?: string;
}

export interface ForgetPageOutput {
  partitions: number;
  kept: number;
  forgotten: number;
  next?: string;
}

/** prune's result as an activity returns it: counts only (PruneResult holds nothing that grows with the repository). */
export type PruneCounts = Omit<PruneResult, 'deferredFor'>;

export interface PruneTenantOutput {
  tenant: string;
  dryRun: boolean;
  partitions: number;
  kept: number;
  forgotten: number;
  prune: PruneCounts;
}
