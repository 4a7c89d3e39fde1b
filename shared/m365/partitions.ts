import type { Service } from './services';
import { SCOPE_PLURAL, scopeOf } from './scopes';

/** Partition names of Microsoft 365 data: one per tenant, user (by immutable id) and service. */
export const servicePartition = (tenant: string, userId: string, service: Service) => {
  // A site, group or team (tenant-level scope): m365/<tenant>/sites/<siteId>/sharepoint and the like.
  const scope = scopeOf(userId);
  return scope ? `m365/${tenant}/${SCOPE_PLURAL[scope.kind]}/${scope.id}/${service}` : `m365/${tenant}/${userId}/${service}`;
};
/** The tenant's user directory (id, UPN, display name) and last run report, sealed in its state. */
export const directoryPartition = (tenant: string) => `m365/${tenant}/directory`;
