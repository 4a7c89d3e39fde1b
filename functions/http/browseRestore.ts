import * as df from 'durable-functions';
import { randomUUID } from 'node:crypto';
import { BackupError } from '../../shared/errors';
import { appendAudit, endRestoreSession } from '../../shared/repo';
import { beginTenantRestore, restoreJobDownload } from '../../shared/restore/m365/restoreJob';
import { redactSecrets } from '../../shared/redact';
import { appServices } from '../runtime';
import type { RestoreInput } from '../contracts';
import { parseServices } from './backups';
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
 * (a folder prefix) and conflict (skip | rename | replace). This build's restore engine writes the
 * zip only: the other destinations and `path` are refused until the restore engine takes them
 * (RESTORE_DESTINATIONS; with h-restore merged: ['folder', 'in-place', 'user'], and the fields are
 * passed on in the orchestration's input), never silently turned into a zip.
 */
const RESTORE_DESTINATIONS: readonly string[] = ['folder'];
const CONFLICTS = ['skip', 'rename', 'replace'];

function destinationOf(v: unknown): { kind: 'folder' | 'in-place' | 'user'; user?: string } {
  if (v === undefined || v === null) return { kind: 'folder' };
  const d = v as { kind?: unknown; user?: unknown };
  if (typeof v !== 'object' || !['folder', 'in-place', 'user'].includes(String(d.kind))) throw new BackupError('USAGE', '"destination" must be {"kind":"folder"}, {"kind":"in-place"} or {"kind":"user","user":"<upn>"}.');
  if (d.kind === 'user' && (typeof d.user !== 'string' || !d.user)) throw new BackupError('USAGE', 'A "user" destination names the user: {"kind":"user","user":"<upn>"}.');
  return { kind: d.kind as 'folder' | 'in-place' | 'user', ...(d.kind === 'user' ? { user: String(d.user) } : {}) };
}

/** POST /api/browse/sessions/{id}/restores -> 202 {id, statusUri}. */
jsonEndpoint('startBrowseRestore', { route: 'browse/sessions/{id}/restores', methods: ['POST'], durableClient: true, access: ['Backup.SelfService'] }, async (req, context, caller) => {
  const s = await sessionFor(caller, req.params.id ?? '');
  const body = await jsonBody(req, ['user', 'services', 'at', 'destination', 'path', 'conflict']);
  const user = allowedUser(s, optionalString(body, 'user') ?? null, { required: false });
  const services = parseServices(body.services);
  const atText = optionalString(body, 'at');
  const at = atText ? new Date(atText) : undefined;
  if (at && Number.isNaN(at.getTime())) throw new BackupError('USAGE', `"at" is not a date-time: ${atText}.`);
  const destination = destinationOf(body.destination);
  if (s.onlyUser && destination.kind === 'user') throw new BackupError('FORBIDDEN', 'A self-service restore goes back to your own mailbox and OneDrive, or to a download.');
  const path = optionalString(body, 'path');
  const conflict = optionalString(body, 'conflict');
  if (conflict !== undefined && !CONFLICTS.includes(conflict)) throw new BackupError('USAGE', '"conflict" must be skip, rename or replace.');
  if (!RESTORE_DESTINATIONS.includes(destination.kind) || (path !== undefined && RESTORE_DESTINATIONS.length === 1))
    throw new BackupError('USAGE', `This build's restore engine writes a zip download only: ${path !== undefined ? '"path"' : `destination "${destination.kind}"`} is not available yet.`);
  const { repo, tenantName } = s.scope;
  const session = (await beginTenantRestore(repo, s.scope.key, { tenantName, services, user, pointInTime: at })).sessionId;
  try {
    const instanceId = `restore-${tenantName}-${randomUUID().slice(0, 8)}`;
    await appendAudit(repo, {
      time: new Date().toISOString(),
      who: caller.upn || caller.name,
      what: { ...(user ? { user } : {}), services, ...(at ? { at: at.toISOString() } : {}), ...(path ? { path } : {}) },
      where: { ...destination, ...(conflict ? { conflict } : {}) },
      restoreId: instanceId,
      via: 'browse-session',
    });
    // The restore engine's own fields (POST /api/restores' contract), passed on once it takes them.
    const engine = RESTORE_DESTINATIONS.length > 1 ? { destination, ...(path !== undefined ? { path } : {}), ...(conflict ? { conflict } : {}) } : {};
    const input: RestoreInput & { pollSeconds: number } & Record<string, unknown> = { tenant: tenantName, sessionId: session, services, ...(user ? { user } : {}), ...(at ? { at: at.toISOString() } : {}), ...engine, pollSeconds: appServices().settings.restorePollSeconds };
    await df.getClient(context).startNew('restore', { instanceId, input });
    const base = new URL(req.url).origin;
    const statusUri = `${base}/api/browse/sessions/${s.scope.sessionId}/restores/${instanceId}`;
    return { status: 202, headers: { Location: statusUri }, jsonBody: { id: instanceId, statusUri } };
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
  const status = await instanceOf(context, id, 'restore');
  const input = status?.input as RestoreInput | undefined;
  if (!status || input?.tenant !== s.scope.tenantName || (s.onlyUser && input.user?.toLowerCase() !== s.onlyUser)) return errorResponse(404, 'NOT_FOUND', `No restore "${id}" in this session.`);
  const body: Record<string, unknown> = { id, runtimeStatus: status.runtimeStatus, progress: status.customStatus, createdTime: status.createdTime, lastUpdatedTime: status.lastUpdatedTime };
  const phase = (status.customStatus as { phase?: string } | null)?.phase;
  if (phase === 'ready' || phase === 'expired' || status.runtimeStatus === 'Completed') {
    const download = await restoreJobDownload(s.scope.repo, id);
    if (!download) return errorResponse(410, 'GONE', `The download of restore "${id}" has expired and its zip was deleted; start the restore again.`);
    Object.assign(body, { runtimeStatus: 'Completed', ...download });
  } else if (status.runtimeStatus === 'Failed') body.error = typeof status.output === 'string' ? redactSecrets(status.output.split('\n')[0]!) : 'The restore failed.';
  return { status: 200, jsonBody: body };
});
