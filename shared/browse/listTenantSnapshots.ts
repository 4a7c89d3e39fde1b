import { Catalog, type Repository } from '../repo';
import type { Service } from '../m365';
import { servicePartition } from '../m365';
import { readDirectory, selectUsers } from '../restore/m365/restoreTenant';

/** One snapshot of one user's service (no password needed: user names come from the tenant's directory). */
export interface TenantSnapshotRow {
  user: string;
  userId: string;
  service: Service;
  snapshot: number;
  time: string;
  status: 'complete' | 'partial';
  items: number;
  changedItems: number;
  deletedItems: number;
  failedItems: number;
}

export interface ListTenantSnapshotsInput {
  tenantName: string;
  /** One user (id or UPN); all backed-up users when absent. */
  user?: string;
  services: readonly Service[];
}

/** The snapshots of a tenant's users and services, per user, then service, oldest first. */
export async function listTenantSnapshots(repo: Repository, input: ListTenantSnapshotsInput): Promise<TenantSnapshotRow[]> {
  const users = selectUsers(await readDirectory(repo, input.tenantName), input.tenantName, input.user);
  const rows: TenantSnapshotRow[] = [];
  for (const u of users)
    for (const service of input.services)
      for (const s of await new Catalog(repo, servicePartition(input.tenantName, u.id, service)).snapshots())
        rows.push({
          user: u.userPrincipalName,
          userId: u.id,
          service,
          snapshot: s.seq,
          time: s.time,
          status: s.status,
          items: s.stats.items,
          changedItems: s.stats.changedItems,
          deletedItems: s.stats.deletedItems,
          failedItems: s.stats.failedItems,
        });
  return rows;
}
