import { BackupError } from '../../shared/errors';
import { listTenantSnapshotsPage } from '../../shared/browse';
import { appServices } from '../runtime';
import { parseServices } from './backups';
import { validateUserRef } from '../../shared/tenants/names';
import { checkQuery, jsonEndpoint } from './respond';
import { checkOwnUser } from './access';

/**
 * GET /api/snapshots?tenant=&user=&service=&cursor=&limit=: snapshots per user and service (no
 * password needed), a page of users at a time: `next` is the cursor of the next page.
 */
jsonEndpoint('listSnapshots', { route: 'snapshots', methods: ['GET'], access: ['Backup.Operator', 'Backup.SelfService'] }, async (req, context, caller) => {
    checkQuery(req, ['tenant', 'user', 'service', 'cursor', 'limit']);
    const tenant = req.query.get('tenant');
    if (!tenant) throw new BackupError('USAGE', 'The "tenant" query parameter is required.');
    const user = userQuery(req.query.get('user'));
    checkOwnUser(caller, user);
    const services = parseServices(req.query.get('service') ?? undefined);
    const t = await appServices().tenant(tenant);
    const page = await listTenantSnapshotsPage(t.repo, { tenantName: t.record.name, user, services, cursor: req.query.get('cursor') ?? undefined, limit: limitQuery(req.query.get('limit')) });
    return { status: 200, jsonBody: { tenant: t.record.name, ...page } };
});

/** The optional ?user= filter: a UPN or an object id ("" is refused, not read as "every user"). */
function userQuery(v: string | null): string | undefined {
  return v === null ? undefined : validateUserRef(v);
}

/** The optional ?limit= of a paged listing: a positive integer (capped by the listing). */
export function limitQuery(v: string | null): number | undefined {
  if (v === null) return undefined;
  if (!/^[1-9][0-9]{0,5}$/.test(v)) throw new BackupError('USAGE', 'The "limit" query parameter must be a positive integer.');
  return Number(v);
}
