import { BackupError } from '../errors';
import type { Service } from '../m365';
import { Catalog, type Repository } from '../repo';
import { servicePartition } from '../m365';
import { directoryUsers } from '../restore/m365/restoreTenant';
import { selectSnapshot } from '../restore/selectSnapshot';
import type { PasswordSource, SnapshotListing } from './snapshotListing';

/** A drive item, message, event, contact or folder as a service backup records it. */
export interface ServiceEntry {
  type?: string;
  id?: string;
  [field: string]: unknown;
}

export interface ListServiceSnapshotInput {
  tenantName: string;
  /** The user (id or UPN). */
  user: string;
  service: Service;
  /** "latest", the snapshot number in this user's service, or a date-time. */
  snapshot: string;
  password: PasswordSource;
}

/** The items of one snapshot of one user's service, in stored order. */
export async function listServiceSnapshot(repo: Repository, input: ListServiceSnapshotInput): Promise<SnapshotListing<ServiceEntry> & { user: string; service: Service }> {
  const [user] = await directoryUsers(repo, input.tenantName, input.user);
  if (!user) throw new BackupError('NOT_FOUND', `Tenant "${input.tenantName}" has no backed-up user "${input.user}".`);
  const catalog = new Catalog(repo, servicePartition(input.tenantName, user.id, input.service));
  const snapshot = await selectSnapshot(catalog, input.snapshot, `the ${input.service} of ${user.userPrincipalName}`);
  const key = await repo.unlock(await input.password());
  const entries: ServiceEntry[] = [];
  for await (const v of catalog.versionsAt(snapshot.seq, await catalog.openRunKeys(key))) entries.push(v.meta as ServiceEntry);
  return { user: user.userPrincipalName, service: input.service, snapshot: snapshot.seq, time: snapshot.time, entries };
}
