import { BackupError } from '../../shared/errors';
import { Catalog } from '../../shared/repo';
import { servicePartition } from '../../shared/m365';
import { readDirectory, selectUsers } from '../../shared/restore/m365/restoreTenant';
import { appServices } from '../runtime';
import { parseServices } from './backups';
import { validateUserRef } from '../../shared/tenants/names';
import { checkQuery, jsonEndpoint } from './respond';

/** GET /api/snapshots?tenant=&user=&service=: snapshots per user and service (no password needed). */
jsonEndpoint('listSnapshots', { route: 'snapshots', methods: ['GET'] }, async (req, context) => {
    checkQuery(req, ['tenant', 'user', 'service']);
    const tenant = req.query.get('tenant');
    if (!tenant) throw new BackupError('USAGE', 'The "tenant" query parameter is required.');
    const user = userQuery(req.query.get('user'));
    const services = parseServices(req.query.get('service') ?? undefined);
    const t = await appServices().tenant(tenant);
    const users = selectUsers(await readDirectory(t.repo, t.record.name), t.record.name, user);
    const snapshots: Record<string, unknown>[] = [];
    for (const u of users)
      for (const service of services)
        for (const s of await new Catalog(t.repo, servicePartition(t.record.name, u.id, service)).snapshots())
          snapshots.push({ user: u.userPrincipalName, userId: u.id, service, snapshot: s.seq, time: s.time, status: s.status, items: s.stats.items, changedItems: s.stats.changedItems, deletedItems: s.stats.deletedItems, failedItems: s.stats.failedItems });
    return { status: 200, jsonBody: { tenant: t.record.name, snapshots } };
});

/** The optional ?user= filter: a UPN or an object id ("" is refused, not read as "every user"). */
function userQuery(v: string | null): string | undefined {
  return v === null ? undefined : validateUserRef(v);
}
