import type { Service } from '../../graph';

/** Partition names of Microsoft 365 data: one per tenant, user (by immutable id) and service. */
export const servicePartition = (tenant: string, userId: string, service: Service) => `m365/${tenant}/${userId}/${service}`;
/** The tenant's user directory (id, UPN, display name) and last run report, sealed in its state. */
export const directoryPartition = (tenant: string) => `m365/${tenant}/directory`;

export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  services: Service[];
}

export interface DirectoryState {
  users: DirectoryUser[];
  lastReport?: unknown;
}

/** The users matching `want` (id or UPN, case-insensitive); all of them when `want` is absent. */
export function matchUsers<T extends { id: string; userPrincipalName: string }>(users: T[], want?: string): T[] {
  if (!want) return users;
  const w = want.toLowerCase();
  return users.filter((u) => u.id.toLowerCase() === w || u.userPrincipalName.toLowerCase() === w);
}
