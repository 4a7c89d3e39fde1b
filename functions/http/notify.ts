import { BackupError } from '../../shared/errors';
import { checkWebhookUrl, webhookHost } from '../../shared/notify';
import { readWebhookUrl, writeWebhookUrl } from '../../shared/repo';
import { appServices } from '../runtime';
import { checkQuery, jsonBody, jsonEndpoint, requiredString } from './respond';

/**
 * GET / PUT / DELETE /api/tenants/{tenant}/webhook: the tenant's notification webhook (admins). The
 * URL is a credential (whoever holds a Teams or Slack webhook URL can post to the channel): it is
 * stored sealed and never answered back; GET says only whether one is set and its host.
 */
jsonEndpoint('tenantWebhook', { route: 'tenants/{tenant}/webhook', methods: ['GET', 'PUT', 'DELETE'], access: ['Backup.Admin'] }, async (req) => {
  const t = await appServices().tenant(req.params.tenant ?? '');
  const method = req.method.toUpperCase();
  if (method === 'PUT') {
    const url = checkWebhookUrl(requiredString(await jsonBody(req, ['url']), 'url'));
    await writeWebhookUrl(t.repo, url);
    return { status: 200, jsonBody: { tenant: t.record.name, configured: true, host: webhookHost(url) } };
  }
  checkQuery(req, []);
  if (method === 'DELETE') {
    await writeWebhookUrl(t.repo, undefined);
    return { status: 204 };
  }
  if (method !== 'GET') throw new BackupError('USAGE', `${method} is not supported here.`);
  const url = await readWebhookUrl(t.repo);
  return { status: 200, jsonBody: { tenant: t.record.name, configured: !!url, ...(url ? { host: webhookHost(url) } : {}) } };
});
