import { Catalog, type Repository } from '../repo';
import type { DirectoryUser } from '../m365';
import type { Service } from '../m365';
import { servicePartition } from '../m365';
import { directoryUsers, tenantDirectoryOf } from '../restore/m365/restoreTenant';

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

/** The snapshots of a tenant's users and services, per user, then service, oldest first (every user: the CLI). */
export async function listTenantSnapshots(repo: Repository, input: ListTenantSnapshotsInput): Promise<TenantSnapshotRow[]> {
  return rowsOf(repo, input, await directoryUsers(repo, input.tenantName, input.user));
}

/** Users per page of `listTenantSnapshotsPage` by default and at most. */
export const SNAPSHOT_PAGE_USERS = 50;

/**
 * One page of a tenant's snapshots: those of up to `limit` users of the directory (one user when
 * `user` is given), and the cursor of the next page. What HTTP serves: a response never holds the
 * whole tenant.
 */
export async function listTenantSnapshotsPage(
  repo: Repository,
  input: ListTenantSnapshotsInput & { cursor?: string; limit?: number },
): Promise<{ snapshots: TenantSnapshotRow[]; next?: string }> {
  if (input.user !== undefined) return { snapshots: await rowsOf(repo, input, await directoryUsers(repo, input.tenantName, input.user)) };
  const limit = Math.max(1, Math.min(input.limit ?? SNAPSHOT_PAGE_USERS, SNAPSHOT_PAGE_USERS));
  const page = await tenantDirectoryOf(repo, input.tenantName).page({ after: input.cursor, limit });
  return { snapshots: await rowsOf(repo, input, page.members), ...(page.next ? { next: page.next } : {}) };
}

async function rowsOf(repo: Repository, input: ListTenantSnapshotsInput, users: DirectoryUser[]): Promise<TenantSnapshotRow[]> {
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
