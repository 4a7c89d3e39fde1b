import { BackupError } from '../../shared/errors';
import { openBrowseSession, type BrowseSessionInfo } from '../../shared/repo';
import type { BrowseScope } from '../../shared/browse';
import { validateUserRef } from '../../shared/tenants/names';
import { appServices } from '../runtime';
import type { Caller } from './access';

/**
 * Who may use a browse session: the admin who opened it (their own session), or the one
 * self-service user it was opened for, and then only for that user's data. The id the console
 * holds is "<tenant>.<32 hex>": it names the tenant repository and the session row, and is useless
 * without the key provider that unwraps the row.
 */
const SESSION_ID = /^([a-z][a-z0-9]{1,23})\.([0-9a-f]{32})$/;

export function parseSessionId(id: string): { tenant: string; hex: string } {
  const m = SESSION_ID.exec(id);
  if (!m) throw new BackupError('USAGE', 'That is not a browse session id ("<tenant>.<32 hex digits>").');
  return { tenant: m[1]!, hex: m[2]! };
}

export interface OpenedSession {
  scope: BrowseScope;
  info: BrowseSessionInfo;
  /** The one user this caller may see in it (self-service), or undefined (an admin's own session: everyone). */
  onlyUser?: string;
}

export async function sessionFor(caller: Caller, id: string): Promise<OpenedSession> {
  const { tenant, hex } = parseSessionId(id);
  const t = await appServices().tenant(tenant);
  const s = await openBrowseSession(t.repo, hex);
  const isAdmin = caller.roles.includes('Backup.Admin');
  const mayUse = s.forUser ? caller.upn === s.forUser || (isAdmin && caller.upn === s.owner) : isAdmin && caller.upn === s.owner;
  if (!mayUse) throw new BackupError('FORBIDDEN', 'This browse session was not opened by you or for you.');
  const { key, ...info } = s;
  return { scope: { repo: t.repo, key, sessionId: `${tenant}.${hex}`, tenantName: t.record.name }, info, ...(s.forUser ? { onlyUser: s.forUser } : {}) };
}

/** The `user` a call names, checked against what the session lets this caller see. */
export function allowedUser(session: OpenedSession, user: string | null, o: { required: boolean }): string | undefined {
  const u = user === null ? undefined : validateUserRef(user).toLowerCase();
  if (session.onlyUser) {
    if (u === undefined || u !== session.onlyUser) throw new BackupError('FORBIDDEN', 'This browse session shows only the mailbox and OneDrive of the user it was opened for: name them as "user".');
    return u;
  }
  if (o.required && u === undefined) throw new BackupError('USAGE', 'The "user" query parameter is required.');
  return u;
}
