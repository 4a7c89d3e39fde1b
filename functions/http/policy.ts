import { getRetentionPolicy, replaceRetentionPolicy } from '../../shared/retention';
import { appServices } from '../runtime';
import { jsonBody, jsonEndpoint } from './respond';

/** GET /api/tenants/{tenant}/policy: the tenant's retention policy ({"version":1} = keep everything). */
jsonEndpoint('getRetentionPolicy', { route: 'tenants/{tenant}/policy', methods: ['GET'], access: ['Backup.Operator'] }, async (req) => {
  const t = await appServices().tenant(req.params.tenant ?? '');
  return { status: 200, jsonBody: { tenant: t.record.name, policy: await getRetentionPolicy(t.repo) } };
});

/** PUT /api/tenants/{tenant}/policy {version?, keep?, services?, users?, legalHold?}: replaces it (validated first: a 400 changes nothing). */
jsonEndpoint('putRetentionPolicy', { route: 'tenants/{tenant}/policy', methods: ['PUT'], access: ['Backup.Admin'] }, async (req) => {
  const body = await jsonBody(req, ['version', 'keep', 'services', 'users', 'legalHold']);
  const t = await appServices().tenant(req.params.tenant ?? '');
  return { status: 200, jsonBody: { tenant: t.record.name, policy: await replaceRetentionPolicy(t.repo, body) } };
});
