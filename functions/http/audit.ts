import { BackupError } from '../../shared/errors';
import { readAudit } from '../../shared/repo';
import { appServices } from '../runtime';
import { checkQuery, jsonEndpoint } from './respond';

/** GET /api/audit?tenant=&limit=: the tenant's restore audit log, newest first (admins). */
jsonEndpoint('listAudit', { route: 'audit', methods: ['GET'], access: ['Backup.Admin'] }, async (req) => {
  checkQuery(req, ['tenant', 'limit']);
  const tenant = req.query.get('tenant');
  if (!tenant) throw new BackupError('USAGE', 'The "tenant" query parameter is required.');
  const limitText = req.query.get('limit') ?? '100';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new BackupError('USAGE', '"limit" must be a whole number from 1 to 1000.');
  const t = await appServices().tenant(tenant);
  return { status: 200, jsonBody: { tenant: t.record.name, entries: await readAudit(t.repo, limit) } };
});
