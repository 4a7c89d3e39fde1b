import * as df from 'durable-functions';
import { randomUUID } from 'node:crypto';
import { BackupError } from '../../shared/errors';
import { appendAudit, endRestoreSession } from '../../shared/repo';
import { beginTenantRestore, restoreJobDownload } from '../../shared/restore/m365/restoreJob';
import { redactSecrets } from '../../shared/redact';
import { appServices } from '../runtime';
import type { RestoreInput } from '../contracts';
import { parseServices } from './backups';
import { m365RestoreStatus, parseDestination, startM365Restore } from './m365Restores';
import { parseConflict } from '../../shared/restore/m365/write/engine';
import { parsePathPrefix } from '../../shared/restore/m365/write/writePlan';
import { writerFor } from '../../shared/restore/m365/write/writers';
import { checkSelectedItems, parseItemIds } from '../../shared/restore/selectedItems';
import { allowedUser, sessionFor } from './browseAccess';
import { checkQuery, errorResponse, instanceOf, jsonBody, jsonEndpoint, optionalString } from './respond';

/**
 * Restores started from the console, inside a browse session (so the password is not asked again
 * and never reaches the browser twice): the same `restore` orchestration as POST /api/restores,
 * with a restore session made from the browse session's key. Every one is written to the
 * repository's audit log (who, what, when, where to) before it starts.
 *
 * The body follows POST /api/restores' contract: user, services, at, destination
 * ({"kind":"folder"} = the zip download | {"kind":"in-place"} | {"kind":"user","user":upn}), path
 * (a folder prefix), items (selected item or folder ids of the user, from the listing) and conflict
 * (skip | rename | replace). A folder destination is the zip download (the `restore` orchestration;
 * of whole services, or of the selected items, a folder with its subtree); in-place and user go back into Microsoft 365 through the
 * same starter as POST /api/restores (`restoreM365`, every check before any write).
 */

/** POST /api/browse/sessions/{id}/restores -> 202 {id, statusUri}. */
jsonEndpoint('startBrowseRestore', { route: 'browse/sessions/{id}/restores', methods: ['POST'], durableClient: true, access: ['Backup.SelfService'] }, async (req, context, caller) => {
  const s = await sessionFor(caller, req.params.id ?? '');
  const body = await jsonBody(req, ['user', 'services', 'at', 'destination', 'path', 'conflict', 'items']);
  const user = allowedUser(s, optionalString(body, 'user') ?? null, { required: false });
  const services = parseServices(body.services);
  const atText = optionalString(body, 'at');
  const at = atText ? new Date(atText) : undefined;
  if (at && Number.isNaN(at.getTime())) throw new BackupError('USAGE', `"at" is not a date-time: ${atText}.`);
  const destination = parseDestination(body.destination);
  if (s.onlyUser && destination.kind === 'user') throw new BackupError('FORBIDDEN', 'A self-service restore goes back to your own mailbox and OneDrive, or to a download.');
  const path = optionalString(body, 'path');
  const conflictText = optionalString(body, 'conflict');
  const items = parseItemIds(body.items);
  if (destination.kind === 'folder' && (path !== undefined || conflictText !== undefined)) throw new BackupError('USAGE', '"path" and "conflict" go with a destination of kind "in-place" or "user".');
  if (items && !user) throw new BackupError('USAGE', '"items" are items of one user: name the user as "user".');
  const conflict = destination.kind === 'folder' ? undefined : parseConflict(conflictText);
  if (destination.kind !== 'folder') parsePathPrefix(path);
  const { repo, tenantName } = s.scope;
  const audit = (restoreId: string) =>
    appendAudit(repo, {
      time: new Date().toISOString(),
      who: caller.upn || caller.name,
      what: { ...(user ? { user } : {}), services, ...(at ? { at: at.toISOString() } : {}), ...(path ? { path } : {}), ...(items ? { items } : {}) },
      where: { ...destination, ...(conflict ? { conflict } : {}) },
      restoreId,
      via: 'browse-session',
    });
  const base = new URL(req.url).origin;
  const accepted = (instanceId: string) => {
    const statusUri = `${base}/api/browse/sessions/${s.scope.sessionId}/restores/${instanceId}`;
    return { status: 202, headers: { Location: statusUri }, jsonBody: { id: instanceId, statusUri } };
  };
  if (destination.kind !== 'folder') {
    const m365Services = body.services === undefined ? services.filter((x) => writerFor(x) !== undefined) : services;
    const instanceId = await startM365Restore(context, tenantName, s.scope.key, { services: m365Services, ...(user ? { user } : {}), ...(at ? { at } : {}), destination, conflict: conflict!, ...(path !== undefined ? { path } : {}), ...(items ? { items } : {}) });
    await audit(instanceId);
    return accepted(instanceId);
  }
  const selection = { tenantName, services, user, pointInTime: at };
  // A zip of selected items: every id checked before anything starts (404 naming the missing ones).
  if (items) await checkSelectedItems(repo, s.scope.key, selection, items);
  const session = (await beginTenantRestore(repo, s.scope.key, selection)).sessionId;
  try {
    const instanceId = `restore-${tenantName}-${randomUUID().slice(0, 8)}`;
    await audit(instanceId);
    const input: RestoreInput & { pollSeconds: number } = { tenant: tenantName, sessionId: session, services, ...(user ? { user } : {}), ...(at ? { at: at.toISOString() } : {}), ...(items ? { items } : {}), pollSeconds: appServices().settings.restorePollSeconds };
    await df.getClient(context).startNew('restore', { instanceId, input });
    return accepted(instanceId);
  } catch (e) {
    await endRestoreSession(repo, session).catch(() => undefined);
    throw e;
  }
});

/**
 * GET /api/browse/sessions/{id}/restores/{restoreId}: the restore's progress and, once written, its
 * report and download (as GET /api/restores/{id}); a self-service caller only for their own user.
 */
jsonEndpoint('getBrowseRestore', { route: 'browse/sessions/{id}/restores/{restoreId}', methods: ['GET'], durableClient: true, access: ['Backup.SelfService'] }, async (req, context, caller) => {
  checkQuery(req, []);
  const s = await sessionFor(caller, req.params.id ?? '');
  const id = req.params.restoreId ?? '';
  const status = (await instanceOf(context, id, 'restore')) ?? (await instanceOf(context, id, 'restoreM365'));
  const input = status?.input as RestoreInput | undefined;
  if (!status || input?.tenant !== s.scope.tenantName || (s.onlyUser && input.user?.toLowerCase() !== s.onlyUser)) return errorResponse(404, 'NOT_FOUND', `No restore "${id}" in this session.`);
  if (status.name === 'restoreM365') return { status: 200, jsonBody: await m365RestoreStatus(id, status) };
  const body: Record<string, unknown> = { id, runtimeStatus: status.runtimeStatus, progress: status.customStatus, createdTime: status.createdTime, lastUpdatedTime: status.lastUpdatedTime };
  const phase = (status.customStatus as { phase?: string } | null)?.phase;
  if (phase === 'ready' || phase === 'expired' || status.runtimeStatus === 'Completed') {
    const download = await restoreJobDownload(s.scope.repo, id);
    if (!download) return errorResponse(410, 'GONE', `The download of restore "${id}" has expired and its zip was deleted; start the restore again.`);
    Object.assign(body, { runtimeStatus: 'Completed', ...download });
  } else if (status.runtimeStatus === 'Failed') body.error = typeof status.output === 'string' ? redactSecrets(status.output.split('\n')[0]!) : 'The restore failed.';
  return { status: 200, jsonBody: body };
});
