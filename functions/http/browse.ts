import { forgetSession } from '../../shared/browse';
import { BROWSE_IDLE_MS, browseSessionsOf, createBrowseSession, endBrowseSession } from '../../shared/repo';
import { withPasswordThrottle } from '../../shared/repo/passwordThrottle';
import { directoryUsers } from '../../shared/restore/m365/restoreTenant';
import { validateUserRef } from '../../shared/tenants/names';
import { appServices } from '../runtime';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { authorize, type Caller } from './access';
import { parseSessionId, sessionFor } from './browseAccess';
import { checkQuery, jsonBody, jsonEndpoint, optionalString, requiredString } from './respond';

/**
 * Browse sessions (docs/openapi.yaml): an admin unlocks a tenant's backups with the repository
 * password; the key goes into a Key Vault-wrapped session row (shared/repo/browseSession.ts) and
 * the console keeps only the session id, in memory. `forUser` opens it for one self-service user
 * instead (they then see only their own mailbox and OneDrive in it).
 */

/**
 * One function for GET and POST of browse/sessions (the local host, like many routers, picks a
 * function by route before method): POST opens (admins), GET lists (whoever may use a session).
 */
jsonEndpoint('browseSessions', { route: 'browse/sessions', methods: ['GET', 'POST'], access: ['Backup.SelfService'] }, async (req, _context, caller) =>
  req.method.toUpperCase() === 'POST' ? openSession(req, authorize(req, ['Backup.Admin'])) : listSessions(req, caller),
);

/** POST /api/browse/sessions {tenant, password, forUser?} -> 201 {id, expires, ends, idleMinutes}. */
async function openSession(req: HttpRequest, caller: Caller): Promise<HttpResponseInit> {
  const body = await jsonBody(req, ['tenant', 'password', 'forUser']);
  const tenant = requiredString(body, 'tenant');
  const password = requiredString(body, 'password');
  const forText = optionalString(body, 'forUser');
  const t = await appServices().tenant(tenant);
  let forUser: string | undefined;
  if (forText !== undefined) {
    const [u] = await directoryUsers(t.repo, t.record.name, validateUserRef(forText));
    forUser = u!.userPrincipalName.toLowerCase();
  }
  const key = await withPasswordThrottle(t.repo, () => t.repo.unlock(password));
  const s = await createBrowseSession(t.repo, key, { owner: caller.upn, ...(forUser ? { forUser } : {}) });
  return { status: 201, jsonBody: { id: `${t.record.name}.${s.id}`, tenant: t.record.name, ...(forUser ? { forUser } : {}), expires: s.expires, ends: s.ends, idleMinutes: BROWSE_IDLE_MS / 60_000 } };
}

/**
 * GET /api/browse/sessions[?tenant=]: the live sessions the caller opened or that were opened for
 * them, in one tenant or in every tenant (a self-service user does not know the tenant's name).
 */
async function listSessions(req: HttpRequest, caller: Caller): Promise<HttpResponseInit> {
  checkQuery(req, ['tenant']);
  const tenant = req.query.get('tenant');
  const names = tenant ? [(await appServices().tenant(tenant)).record.name] : (await (await appServices().tenants()).list()).map((t) => t.name);
  const out: { id: string; tenant: string; forMe: boolean; expires: string }[] = [];
  for (const name of names) {
    const t = await appServices().tenant(name);
    // An admin's own sessions, or those opened for this caller (a self-service user never sees an admin's).
    for (const s of await browseSessionsOf(t.repo, caller.upn))
      if (caller.roles.includes('Backup.Admin') ? s.opener : !s.opener) out.push({ id: `${name}.${s.id}`, tenant: name, forMe: !s.opener, expires: s.expires });
  }
  return { status: 200, jsonBody: { sessions: out } };
}

/** DELETE /api/browse/sessions/{id} -> 204: the session row is deleted; its id opens nothing any more. */
jsonEndpoint('closeBrowseSession', { route: 'browse/sessions/{id}', methods: ['DELETE'], access: ['Backup.SelfService'] }, async (req, _context, caller) => {
  checkQuery(req, []);
  const id = req.params.id ?? '';
  const s = await sessionFor(caller, id);
  const { hex } = parseSessionId(id);
  await endBrowseSession(s.scope.repo, hex);
  forgetSession(s.scope.sessionId);
  return { status: 204 };
});
