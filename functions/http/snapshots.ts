import { BackupError } from '../../shared/errors';
import { listTenantSnapshots } from '../../shared/browse';
import { appServices } from '../runtime';
import { parseServices } from './backups';
import { jsonEndpoint } from './respond';

/** GET /api/snapshots?tenant=&user=&service=: snapshots per user and service (no password needed). */
jsonEndpoint('listSnapshots', { route: 'snapshots', methods: ['GET'] }, async (req, context) => {
    const tenant = req.query.get('tenant');
    if (!tenant) throw new BackupError('USAGE', 'The "tenant" query parameter is required.');
    const t = await appServices().tenant(tenant);
    const snapshots = await listTenantSnapshots(t.repo, { tenantName: t.record.name, user: req.query.get('user') ?? undefined, services: parseServices(req.query.get('service') ?? undefined) });
    return { status: 200, jsonBody: { tenant: t.record.name, snapshots } };
});
