import type { Service } from './services';

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
}

/** The tenant's user directory as stored at the end of a run. */
export interface DirectoryState {
  users: TenantUser[];
  lastReport?: unknown;
}

/** The users matching `want` (id or UPN, case-insensitive); all of them when `want` is absent. */
export function matchUsers<T extends { id: string; userPrincipalName: string }>(users: T[], want?: string): T[] {
  if (want === undefined) return users;
  const w = want.toLowerCase();
  return users.filter((u) => u.id.toLowerCase() === w || u.userPrincipalName.toLowerCase() === w);
}
