import { BackupError } from '../errors';
import type { PrivateKey } from '../crypto';
import { servicePartition, type DirectoryUser, type Service } from '../m365';
import { Catalog, type ItemVersion, type Repository, type SnapshotRecord } from '../repo';
import { directoryUsers } from '../restore/m365/restoreTenant';
import { selectSnapshot } from '../restore/selectSnapshot';
import { versionsOfSnapshot } from './sessionItems';

/** What a browse call runs against: an unlocked session of one tenant repository. */
export interface BrowseScope {
  repo: Repository;
  key: PrivateKey;
  sessionId: string;
  tenantName: string;
}

export interface ServiceSnapshot {
  user: DirectoryUser;
  service: Service;
  catalog: Catalog;
  snapshot: SnapshotRecord;
  snapshots: SnapshotRecord[];
}

/** One user's service at one snapshot ("latest", a number or a date-time: the newest at or before it). */
export async function serviceSnapshot(scope: BrowseScope, userRef: string, service: Service, snapshot: string): Promise<ServiceSnapshot> {
  const [user] = await directoryUsers(scope.repo, scope.tenantName, userRef);
  if (!user) throw new BackupError('NOT_FOUND', `Tenant "${scope.tenantName}" has no backed-up user "${userRef}".`);
  const catalog = new Catalog(scope.repo, servicePartition(scope.tenantName, user.id, service));
  const chosen = await selectSnapshot(catalog, snapshot, `the ${service} of ${user.userPrincipalName}`);
  return { user, service, catalog, snapshot: chosen, snapshots: await catalog.snapshots() };
}

export const versionsOf = (scope: BrowseScope, s: { catalog: Catalog; snapshot: SnapshotRecord }): Promise<ItemVersion[]> => versionsOfSnapshot(scope.repo, scope.key, scope.sessionId, s.catalog, s.snapshot);
