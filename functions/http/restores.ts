import * as df from 'durable-functions';
import { randomUUID } from 'node:crypto';
import { BackupError } from '../../shared/errors';
import { selectTenantVersions } from '../../shared/restore/m365/restoreTenant';
import { createRestoreSession, endRestoreSession } from '../../shared/restore/m365/session';
import { appServices } from '../runtime';
import type { RestoreInput, RestoreOutput } from '../restoreFunctions';
import { redactSecrets } from '../../shared/redact';
import { withPasswordThrottle } from '../../shared/repo/passwordThrottle';
import { optionalUser, parseServices } from './backups';
import { errorResponse, instanceOf, jsonBody, optionalString, requiredString, jsonEndpoint } from './respond';

/**
 * POST /api/restores {tenant, password, user?, services?, at?} -> 202 with the status URLs.
 * The password opens the key here, in the starter; the restore gets only a Key Vault-wrapped session.
 */
jsonEndpoint('startRestore', { route: 'restores', methods: ['POST'], durableClient: true }, async (req, context) => {
  let session: { repo: Awaited<ReturnType<ReturnType<typeof appServices>['tenant']>>['repo']; id: string } | undefined;
  try {
    const body = await jsonBody(req, ['tenant', 'password', 'user', 'services', 'at']);
    const tenant = requiredString(body, 'tenant');
    const password = requiredString(body, 'password');
    const user = optionalUser(body);
    const services = parseServices(body.services);
    const atText = optionalString(body, 'at');
    const at = atText ? new Date(atText) : undefined;
    if (at && Number.isNaN(at.getTime())) throw new BackupError('USAGE', `"at" is not a date-time: ${atText}.`);
    const t = await appServices().tenant(tenant);
    const key = await withPasswordThrottle(t.repo, () => t.repo.unlock(password));
    const selected = await selectTenantVersions(t.repo, key, { tenantName: t.record.name, services, user, pointInTime: at });
    if (selected.length === 0) return errorResponse(404, 'NOT_FOUND', `Nothing of tenant "${tenant}" was backed up${at ? ` at or before ${at.toISOString()}` : ''}.`);
    session = { repo: t.repo, id: await createRestoreSession(t.repo, key) };
    const instanceId = `restore-${t.record.name}-${randomUUID().slice(0, 8)}`;
    const input: RestoreInput & { pollSeconds: number } = { tenant: t.record.name, sessionId: session.id, services, ...(user ? { user } : {}), ...(at ? { at: at.toISOString() } : {}), pollSeconds: appServices().settings.restorePollSeconds };
    await df.getClient(context).startNew('restore', { instanceId, input });
    session = undefined;
    const base = new URL(req.url).origin;
    return { status: 202, headers: { Location: `${base}/api/restores/${instanceId}` }, jsonBody: { id: instanceId, statusUri: `${base}/api/restores/${instanceId}` } };
  } catch (e) {
    // Nothing was started: the session (if made) must not outlive the request.
    if (session) await endRestoreSession(session.repo, session.id).catch(() => undefined);
    throw e;
  }
});

/** GET /api/restores/{id}: status; when completed, a read-only download URL valid for RESTORE_LINK_MINUTES. */
jsonEndpoint('getRestore', { route: 'restores/{id}', methods: ['GET'], durableClient: true }, async (req, context) => {
    const id = req.params.id ?? '';
    const status = await instanceOf(context, id, 'restore');
    if (!status) return errorResponse(404, 'NOT_FOUND', `No restore "${id}".`);
    const body: Record<string, unknown> = { id, runtimeStatus: status.runtimeStatus, progress: status.customStatus, createdTime: status.createdTime, lastUpdatedTime: status.lastUpdatedTime };
    if (status.runtimeStatus === 'Completed') {
      const out = status.output as RestoreOutput;
      const tenant = (status.input as RestoreInput).tenant;
      const t = await appServices().tenant(tenant);
      const expires = new Date(Date.now() + appServices().settings.restoreLinkMinutes * 60_000);
      Object.assign(body, { files: out.files, bytes: out.bytes, zipBytes: out.zipBytes, failures: out.failures, downloadUrl: await t.repo.blobs.readOnlyUrl(out.container, out.blob, expires), downloadExpires: expires.toISOString() });
    } else if (status.runtimeStatus === 'Failed') body.error = typeof status.output === 'string' ? redactSecrets(status.output.split('\n')[0]!) : 'The restore failed.';
    return { status: 200, jsonBody: body };
});

/** POST /api/change-password {tenant, oldPassword, newPassword} -> 204; 401 for a wrong old password. */
jsonEndpoint('changePassword', { route: 'change-password', methods: ['POST'] }, async (req, context) => {
    const body = await jsonBody(req, ['tenant', 'oldPassword', 'newPassword']);
    const tenant = requiredString(body, 'tenant');
    const oldPassword = requiredString(body, 'oldPassword');
    const newPassword = requiredString(body, 'newPassword');
    if (newPassword.length < 8) throw new BackupError('USAGE', 'The new password must have at least 8 characters.');
    const t = await appServices().tenant(tenant);
    await withPasswordThrottle(t.repo, () => t.repo.changePassword(oldPassword, newPassword, appServices().argon2));
    return { status: 204 };
});
