import type { Service } from './services';

/** Partition names of Microsoft 365 data: one per tenant, user (by immutable id) and service. */
export const servicePartition = (tenant: string, userId: string, service: Service) => `m365/${tenant}/${userId}/${service}`;
/** The tenant's user directory (id, UPN, display name) and last run report, sealed in its state. */
export const directoryPartition = (tenant: string) => `m365/${tenant}/directory`;
