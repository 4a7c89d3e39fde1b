import type { Service } from './services';
import type { RunTotals } from './outcome';

/**
 * A user of a tenant as the product knows it: the immutable id (partitions are keyed by it), the
 * UPN and display name (personal data: kept sealed in storage, never in Durable history), and the
 * services the user has. The one user type of the Microsoft 365 domain.
 */
export interface TenantUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  services: Service[];
  /** Why a service is not available (e.g. "no mailbox (404 MailboxNotEnabledForRESTAPI)"). */
  notes?: string[];
  /** A shared, room or equipment mailbox (mailboxSettings.userPurpose); absent for a user's own. */
  mailbox?: string;
}

/**
 * The tenant's user directory as earlier releases stored it: one sealed property holding every
 * user (and the last report), which Table Storage refuses above ~300 users. Read only, to migrate.
 */
export interface DirectoryState {
  users: TenantUser[];
  lastReport?: unknown;
}

/**
 * A user as the tenant directory keeps it (one row per user): what a run found, plus when its
 * services were last probed (absent: probe at the next run) and whether it had a mail address then
 * (a user gaining one is probed again at once: a mailbox may have come with it).
 */
export interface DirectoryUser extends TenantUser {
  probed?: string;
  hasMail?: boolean;
}

/** How the repository's generic directory reads tenant users (shared/repo/directory.ts). */
export const TENANT_DIRECTORY = {
  idOf: (u: DirectoryUser) => u.id,
  nameOf: (u: DirectoryUser) => u.userPrincipalName,
  legacyMembers: (state: unknown): DirectoryUser[] => ((state as Partial<DirectoryState>)?.users ?? []).map((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName, services: u.services ?? [] })),
};

/** The tenant's last run, as the directory's `last` record refers to it: the run id and totals, never the report. */
export interface LastRunRef {
  runId: string;
  status: string;
  finished: string;
  totals: RunTotals;
}

/** The users matching `want` (id or UPN, case-insensitive); all of them when `want` is absent. */
export function matchUsers<T extends { id: string; userPrincipalName: string }>(users: T[], want?: string): T[] {
  if (want === undefined) return users;
  const w = want.toLowerCase();
  return users.filter((u) => u.id.toLowerCase() === w || u.userPrincipalName.toLowerCase() === w);
}
