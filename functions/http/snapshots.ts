import { BackupError } from '../../shared/errors';
import { listTenantSnapshots } from '../../shared/browse';
import { appServices } from '../runtime';
import { parseServices } from './backups';
import { validateUserRef } from '../../shared/tenants/names';
import { checkQuery, jsonEndpoint } from './respond';
import { checkOwnUser } from './access';

/** GET /api/snapshots?tenant=&user=&service=: snapshots per user and service (no password needed). */
jsonEndpoint('listSnapshots', { route: 'snapshots', methods: ['GET'], access: ['Backup.Operator', 'Backup.SelfService'] }, async (req, context, caller) => {
    checkQuery(req, ['tenant', 'user', 'service']);
    const tenant = req.query.get('tenant');
    if (!tenant) throw new BackupError('USAGE', 'The "tenant" query parameter is required.');
    const user = userQuery(req.query.get('user'));
    checkOwnUser(caller, user);
    const services = parseServices(req.query.get('service') ?? undefined);
    const t = await appServices().tenant(tenant);
    const snapshots = await listTenantSnapshots(t.repo, { tenantName: t.record.name, user, services });
    return { status: 200, jsonBody: { tenant: t.record.name, snapshots } };
});

/** The optional ?user= filter: a UPN or an object id ("" is refused, not read as "every user"). */
function userQuery(v: string | null): string | undefined {
  return v === null ? undefined : validateUserRef(v);
}
