import * as df from 'durable-functions';
import { randomUUID } from 'node:crypto';
import { BackupError } from '../../shared/errors';
import { appendAudit, endRestoreSession, type AuditEntry, type Repository } from '../../shared/repo';
import type { Caller } from './access';
import { beginTenantRestore, restoreJobDownload } from '../../shared/restore/m365/restoreJob';
import { appServices } from '../runtime';
import type { RestoreInput } from '../contracts';
import { SERVICES, type Service } from '../../shared/m365';
import { parseConflict } from '../../shared/restore/m365/write/engine';
import { m365RestoreStatus, parseDestination, startM365Restore } from './m365Restores';
import { parsePathPrefix } from '../../shared/restore/m365/write/writePlan';
import { writerFor } from '../../shared/restore/m365/write/writers';
import { redactSecrets } from '../../shared/redact';
import { checkSelectedItems, parseItemIds } from '../../shared/restore/selectedItems';
import { withPasswordThrottle } from '../../shared/repo/passwordThrottle';
import { optionalUser, parseServices } from './backups';
import { errorResponse, instanceOf, jsonBody, optionalString, requiredString, jsonEndpoint } from './respond';


/** The "site" field: a site's URL or id as the backup lists it (one line, at most 400 characters). */
function optionalSite(body: Record<string, unknown>): string | undefined {
  const site = optionalString(body, 'site')?.trim();
  if (site === undefined) return undefined;
  if (site === '' || site.length > 400 || /[\u0000-\u001f]/.test(site)) throw new BackupError('USAGE', '"site" must be a site URL or id as the backup lists it.');
  return site;
}

/** Every restore is in the audit log (who, what, when, where to), whichever door it came through. */
function auditApiRestore(repo: Repository, caller: Caller, restoreId: string, what: { user?: string; site?: string; services: string[]; at?: Date; path?: string; items?: string[] }, where: AuditEntry['where']): Promise<void> {
  return appendAudit(repo, {
    time: new Date().toISOString(),
    who: caller.via === 'key' ? 'function key' : caller.upn || caller.name,
    what: { ...(what.user ? { user: what.user } : {}), ...(what.site ? { site: what.site } : {}), services: what.services, ...(what.at ? { at: what.at.toISOString() } : {}), ...(what.path ? { path: what.path } : {}), ...(what.items ? { items: what.items } : {}) },
    where,
    restoreId,
    via: 'api',
  });
}

/**
 * POST /api/restores {tenant, password, user?, site?, services?, at?, destination?, path?, conflict?, items?} ->
 * 202 with the status URLs. Destination "folder" (default) writes the zip (of whole services, or of
 * the selected `items` of one user); "in-place" and
 * "user" write back into Microsoft 365 (every check — target, mailbox, write roles, path — is made
 * here, before anything is written, so bad input is a 4xx). The password opens the key here, in the
 * starter; the restore gets only a Key Vault-wrapped session.
 */
jsonEndpoint('startRestore', { route: 'restores', methods: ['POST'], durableClient: true, access: ['Backup.Operator'] }, async (req, context, caller) => {
  let session: { repo: Awaited<ReturnType<ReturnType<typeof appServices>['tenant']>>['repo']; id: string } | undefined;
  try {
    const body = await jsonBody(req, ['tenant', 'password', 'user', 'site', 'services', 'at', 'destination', 'path', 'conflict', 'items']);
    const tenant = requiredString(body, 'tenant');
    const password = requiredString(body, 'password');
    const user = optionalUser(body);
    const destination = parseDestination(body.destination);
    const services: Service[] = destination.kind !== 'folder' && body.services === undefined ? SERVICES.filter((s) => writerFor(s) !== undefined) : parseServices(body.services);
    const atText = optionalString(body, 'at');
    const at = atText ? new Date(atText) : undefined;
    if (at && Number.isNaN(at.getTime())) throw new BackupError('USAGE', `"at" is not a date-time: ${atText}.`);
    const path = optionalString(body, 'path');
    const conflictText = optionalString(body, 'conflict');
    const items = parseItemIds(body.items);
    if (destination.kind === 'folder' && (path !== undefined || conflictText !== undefined)) throw new BackupError('USAGE', '"path" and "conflict" go with a destination of kind "in-place" or "user".');
    const site = optionalSite(body);
    if (site !== undefined && destination.kind !== 'in-place') throw new BackupError('USAGE', '"site" goes with a destination of kind "in-place" (a site\'s libraries back into the site); restore a site to a folder with the CLI (restore --site).');
    if (site !== undefined && (user !== undefined || items !== undefined)) throw new BackupError('USAGE', '"site" restores one site: give it without "user" and "items".');
    if (items && !user) throw new BackupError('USAGE', '"items" are items of one user: name the user as "user".');
    if (destination.kind !== 'folder') {
      const conflict = parseConflict(conflictText);
      parsePathPrefix(path);
      const { repo } = await appServices().tenant(tenant);
      const key = await withPasswordThrottle(repo, () => repo.unlock(password));
      const instanceId = await startM365Restore(context, tenant, key, { services, ...(user ? { user } : {}), ...(site ? { site } : {}), ...(at ? { at } : {}), destination, conflict, ...(path !== undefined ? { path } : {}), ...(items ? { items } : {}) });
      await auditApiRestore(repo, caller, instanceId, { user, site, services, at, path, items }, { ...destination, conflict });
      const base = new URL(req.url).origin;
      return { status: 202, headers: { Location: `${base}/api/restores/${instanceId}` }, jsonBody: { id: instanceId, statusUri: `${base}/api/restores/${instanceId}` } };
    }
    const t = await appServices().tenant(tenant);
    const key = await withPasswordThrottle(t.repo, () => t.repo.unlock(password));
    const selection = { tenantName: t.record.name, services, user, pointInTime: at };
    // A zip of selected items: every id checked before anything starts (404 naming the missing ones).
    if (items) await checkSelectedItems(t.repo, key, selection, items);
    session = { repo: t.repo, id: (await beginTenantRestore(t.repo, key, selection)).sessionId };
    const instanceId = `restore-${t.record.name}-${randomUUID().slice(0, 8)}`;
    const input: RestoreInput & { pollSeconds: number } = { tenant: t.record.name, sessionId: session.id, services, ...(user ? { user } : {}), ...(at ? { at: at.toISOString() } : {}), ...(items ? { items } : {}), pollSeconds: appServices().settings.restorePollSeconds };
    await df.getClient(context).startNew('restore', { instanceId, input });
    session = undefined;
    await auditApiRestore(t.repo, caller, instanceId, { user, services, at, items }, { kind: 'folder' });
    const base = new URL(req.url).origin;
    return { status: 202, headers: { Location: `${base}/api/restores/${instanceId}` }, jsonBody: { id: instanceId, statusUri: `${base}/api/restores/${instanceId}` } };
  } catch (e) {
    // Nothing was started: the session (if made) must not outlive the request.
    if (session) await endRestoreSession(session.repo, session.id).catch(() => undefined);
    throw e;
  }
});

/**
 * GET /api/restores/{id}: status; once the zip is ready, a read-only download URL that ends when the
 * zip is deleted (RESTORE_LINK_MINUTES after it was written); after that, 410 Gone.
 */
jsonEndpoint('getRestore', { route: 'restores/{id}', methods: ['GET'], durableClient: true, access: ['Backup.Operator'] }, async (req, context) => {
    const id = req.params.id ?? '';
    const status = await instanceOf(context, id, 'restore');
    if (!status) {
      const into = await instanceOf(context, id, 'restoreM365');
      if (!into) return errorResponse(404, 'NOT_FOUND', `No restore "${id}".`);
      return { status: 200, jsonBody: await m365RestoreStatus(id, into) };
    }
    const body: Record<string, unknown> = { id, runtimeStatus: status.runtimeStatus, progress: status.customStatus, createdTime: status.createdTime, lastUpdatedTime: status.lastUpdatedTime };
    const phase = (status.customStatus as { phase?: string } | null)?.phase;
    // The orchestration keeps running after the zip is written, only to delete it when the link ends:
    // for the caller the restore is complete from then on.
    if (phase === 'ready' || phase === 'expired' || status.runtimeStatus === 'Completed') {
      const t = await appServices().tenant((status.input as RestoreInput).tenant);
      const download = await restoreJobDownload(t.repo, id);
      if (!download) return errorResponse(410, 'GONE', `The download of restore "${id}" has expired and its zip was deleted; start the restore again.`);
      Object.assign(body, { runtimeStatus: 'Completed', ...download });
    } else if (status.runtimeStatus === 'Failed') body.error = typeof status.output === 'string' ? redactSecrets(status.output.split('\n')[0]!) : 'The restore failed.';
    return { status: 200, jsonBody: body };
});

/** POST /api/change-password {tenant, oldPassword, newPassword} -> 204; 401 for a wrong old password. */
jsonEndpoint('changePassword', { route: 'change-password', methods: ['POST'], access: ['Backup.Admin'] }, async (req, context) => {
    const body = await jsonBody(req, ['tenant', 'oldPassword', 'newPassword']);
    const tenant = requiredString(body, 'tenant');
    const oldPassword = requiredString(body, 'oldPassword');
    const newPassword = requiredString(body, 'newPassword');
    if (newPassword.length < 8) throw new BackupError('USAGE', 'The new password must have at least 8 characters.');
    const t = await appServices().tenant(tenant);
    await withPasswordThrottle(t.repo, () => t.repo.changePassword(oldPassword, newPassword, appServices().argon2));
    return { status: 204 };
});
