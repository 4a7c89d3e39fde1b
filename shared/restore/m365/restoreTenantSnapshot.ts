import { BackupError } from '../../errors';
import type { Service } from '../../graph';
import { Catalog, type Repository } from '../../repo';
import { servicePartition } from '../../m365';
import { parseSnapshotSelector, selectSnapshot } from '../selectSnapshot';
import { directoryUsers, restoreTenant, type TenantRestoreResult } from './restoreTenant';
import type { ScopeFilter } from './scopeSelection';

export interface TenantSnapshotRestoreInput {
  tenantName: string;
  services: readonly Service[];
  /** One user (id or UPN); every backed-up user when absent. */
  user?: string;
  /** Sites, teams and groups by id or name (with any of these or `user`: only what they name). */
  scopes?: ScopeFilter;
  /**
   * "latest", a date-time (each selected user's service as of then), or a snapshot number: numbers
   * count per user and service, so a number needs `user` and exactly one service.
   */
  snapshot: string;
  target: string;
  /** The tenant repository's password, asked for once the selection is known to be valid. */
  password: () => Promise<string>;
}

/** The point in time a selector names for a tenant restore (undefined: the latest of each). */
async function pointInTimeOf(repo: Repository, input: TenantSnapshotRestoreInput): Promise<{ at?: Date }> {
  const selector = parseSnapshotSelector(input.snapshot);
  if (selector.kind === 'latest') return {};
  if (selector.kind === 'time') return { at: selector.at };
  if (!input.user || input.services.length !== 1)
    throw new BackupError('USAGE', `Snapshot numbers count per user and service: with a tenant, give one --user and one --service for snapshot ${selector.seq}, or use "latest" or a date-time.`);
  const service = input.services[0]!;
  const [user] = await directoryUsers(repo, input.tenantName, input.user);
  const snapshot = await selectSnapshot(new Catalog(repo, servicePartition(input.tenantName, user!.id, service)), selector, `the ${service} of ${user!.userPrincipalName}`);
  // Snapshot times grow with their numbers, so the snapshot is the newest of its partition at its own time.
  return { at: new Date(snapshot.time) };
}

/**
 * Restores a tenant, one user or some services into a folder as of the snapshot a selector names.
 * Nothing backed up at that point is a NOT_FOUND, never an empty success.
 */
export async function restoreTenantSnapshot(repo: Repository, input: TenantSnapshotRestoreInput): Promise<TenantRestoreResult> {
  const point = await pointInTimeOf(repo, input);
  const key = await repo.unlock(await input.password());
  const result = await restoreTenant(repo, key, { tenantName: input.tenantName, services: input.services, user: input.user, scopes: input.scopes, pointInTime: point.at, target: input.target });
  if (result.partitions.length === 0)
    throw new BackupError('NOT_FOUND', `Nothing of tenant "${input.tenantName}" was backed up${point.at ? ` at or before ${point.at.toISOString()}` : ''}.`);
  return result;
}
