import { BackupError } from '../../../errors';
import type { GraphConnection, Service } from '../../../graph';
import { send, sendOr404, statusOf } from './graphWrite';

/**
 * The application permission each service's writer needs (either one of a list). SharePoint needs
 * Sites.ReadWrite.All itself: Files.ReadWrite.All writes files, but recreating a missing library
 * (POST /sites/{id}/lists) needs Sites.Manage.All or Sites.ReadWrite.All, and one role that does
 * everything is checked once, before anything is written. Groups, teams and chats have no writer
 * into Microsoft 365: they restore to folders only, and are skipped here.
 */
export const WRITE_ROLES: Partial<Record<Service, readonly string[]>> = {
  onedrive: ['Files.ReadWrite.All', 'Sites.ReadWrite.All'],
  mail: ['Mail.ReadWrite'],
  calendar: ['Calendars.ReadWrite'],
  contacts: ['Contacts.ReadWrite'],
  sharepoint: ['Sites.ReadWrite.All'],
};

/** The services written into a mailbox (the others write into a drive or a site). */
const MAILBOX_SERVICES: readonly Service[] = ['mail', 'calendar', 'contacts'];
/** Beta importMime (messages back as delivered, full MIME); without it mail goes the JSON way. */
export const IMPORT_MIME_ROLE = 'Mail-Advanced.ReadWrite.All';

const CONSENT_STEP =
  'Add it in Entra ID > App registrations > (the restore app) > API permissions > Add a permission > Microsoft Graph > Application permissions, then "Grant admin consent"; or register a restore-only app with m365-backup tenant add --name <n> ... --restore-client-id <id> --restore-client-secret-file <f>.';

/** The roles of the connection's app-only token (its `roles` claim); undefined when the token is not a readable JWT. */
export async function tokenRoles(conn: GraphConnection): Promise<string[] | undefined> {
  const graph = new URL(conn.endpoints.graphBaseUrl);
  const scope = `${graph.hostname.endsWith('microsoft.com') ? graph.origin : 'https://graph.microsoft.com'}/.default`;
  const token = await conn.credential.getToken(scope);
  const payload = token?.token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(claims.roles) ? claims.roles.map(String) : [];
  } catch {
    return undefined;
  }
}

/**
 * Before anything is written: the restore app's token must carry a write role for every service
 * restored. CONSENT_MISSING names the first missing role and the consent step. Returns whether
 * importMime is allowed.
 */
export async function checkWriteRoles(conn: GraphConnection, services: readonly Service[]): Promise<{ importMime: boolean }> {
  const roles = await tokenRoles(conn);
  if (roles === undefined) return { importMime: true }; // not a JWT (e.g. an opaque token): Graph's own 403 will say it
  for (const s of services) {
    const needed = WRITE_ROLES[s];
    if (!needed) continue;
    if (!needed.some((r) => roles.includes(r)))
      throw new BackupError('CONSENT_MISSING', `Tenant "${conn.tenant.name}": restoring ${s} needs the application permission ${needed[0]} with admin consent, which the app registration used for restores lacks.`, { hint: CONSENT_STEP });
  }
  return { importMime: roles.includes(IMPORT_MIME_ROLE) };
}

/** The user written into, by UPN or id: NOT_FOUND (one sentence) when the tenant has no such user. */
export async function resolveTargetUser(conn: GraphConnection, user: string): Promise<{ id: string; userPrincipalName: string }> {
  const u = await sendOr404<{ id: string; userPrincipalName: string }>(conn, 'GET', `/users/${encodeURIComponent(user)}?$select=id,userPrincipalName`, `user ${user}`);
  if (!u) throw new BackupError('NOT_FOUND', `Tenant "${conn.tenant.name}" has no user "${user}" to restore into.`);
  return { id: u.id, userPrincipalName: u.userPrincipalName ?? user };
}

/** The target must have what the services write into: a mailbox (mail, calendar, contacts) and a drive (OneDrive). */
export async function checkTargetServices(conn: GraphConnection, user: { id: string; userPrincipalName: string }, requested: readonly Service[]): Promise<void> {
  const services = requested.filter((s) => WRITE_ROLES[s] && s !== 'sharepoint');
  const probe = async (path: string, lacks: string) => {
    try {
      await send(conn, 'GET', path, `the ${lacks} of ${user.userPrincipalName}`);
    } catch (e) {
      if (statusOf(e) === 404) throw new BackupError('USAGE', `User "${user.userPrincipalName}" has no ${lacks}: ${services.filter((s) => (lacks === 'drive' ? s === 'onedrive' : MAILBOX_SERVICES.includes(s))).join(', ')} cannot be restored into it.`);
      throw e;
    }
  };
  if (services.some((s) => MAILBOX_SERVICES.includes(s))) await probe(`/users/${user.id}/mailFolders/inbox?$select=id`, 'mailbox');
  if (services.includes('onedrive')) await probe(`/users/${user.id}/drive?$select=id`, 'drive');
}

/** A site restored in place must still be there: NOT_FOUND (one sentence) when Graph no longer has it. */
export async function checkTargetSite(conn: GraphConnection, site: { id: string; displayName: string }): Promise<void> {
  const found = await sendOr404<{ id: string }>(conn, 'GET', `/sites/${site.id}?$select=id`, `site ${site.displayName}`);
  if (!found) throw new BackupError('NOT_FOUND', `Site "${site.displayName}" is no longer in tenant "${conn.tenant.name}": restore it to a folder instead.`);
}
