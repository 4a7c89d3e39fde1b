import { timingSafeEqual } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import { BackupError } from '../../shared/errors';

/**
 * Who is calling, and what they may do. In Azure, App Service Authentication ("Easy Auth",
 * infra/modules/functionapp.bicep) signs the caller in with Entra ID and hands the function the
 * standard `X-MS-CLIENT-PRINCIPAL` header (base64 JSON of the token's claims); the platform strips
 * that header from incoming requests, so only it can set it. The local host does the same after an
 * OpenID Connect sign-in against the tenant simulator (shared/local/durable/easyAuth.ts).
 */
export const ROLES = ['Backup.Admin', 'Backup.Operator', 'Backup.SelfService'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  /** Display name or UPN, for the console's header; never used to decide anything. */
  name: string;
  /** The caller's UPN (preferred_username), lower case: what self-service compares users against. */
  upn: string;
  roles: Role[];
  /** "aad" for a signed-in caller; "key" for a function-key caller where API_AUTH=keys. */
  via: 'aad' | 'key';
}

interface ClientPrincipal {
  auth_typ?: string;
  name_typ?: string;
  role_typ?: string;
  claims?: { typ?: string; val?: string }[];
}

/**
 * `API_AUTH`: `entra` (set by infra/ with App Service Authentication) requires a principal on every
 * API call and registers the functions anonymous (the platform authenticates); `keys` (the default,
 * as before the console) keeps function keys, and a call without a principal is the key holder, an
 * admin. Read at registration, as the platform reads authLevel.
 */
export function apiAuthMode(env: NodeJS.ProcessEnv = process.env): 'entra' | 'keys' {
  const v = (env.API_AUTH ?? 'keys').trim().toLowerCase();
  if (v !== 'entra' && v !== 'keys') throw new BackupError('USAGE', `API_AUTH must be "entra" or "keys", not "${v.slice(0, 20)}".`);
  return v;
}

const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const UPN_CLAIMS = ['preferred_username', 'upn', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', 'email'];

/** Decodes the platform's principal header; undefined when absent, FORBIDDEN-free USAGE when malformed. */
export function principalOf(req: HttpRequest): Caller | undefined {
  const header = req.headers.get('x-ms-client-principal');
  if (!header) return undefined;
  let p: ClientPrincipal;
  try {
    p = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as ClientPrincipal;
  } catch {
    throw new BackupError('UNAUTHENTICATED', 'The X-MS-CLIENT-PRINCIPAL header is not base64 JSON; sign in again.');
  }
  const claims = (p.claims ?? []).filter((c): c is { typ: string; val: string } => typeof c?.typ === 'string' && typeof c?.val === 'string');
  const of = (types: string[]) => claims.filter((c) => types.includes(c.typ)).map((c) => c.val);
  const roleTypes = [...ROLE_CLAIMS, ...(p.role_typ ? [p.role_typ] : [])];
  const roles = [...new Set(of(roleTypes))].filter((r): r is Role => (ROLES as readonly string[]).includes(r));
  const upn = (of(UPN_CLAIMS)[0] ?? '').toLowerCase();
  const name = of([p.name_typ ?? 'name', 'name'])[0] ?? (upn || 'signed-in user');
  return { name, upn, roles, via: 'aad' };
}

/** The caller of a request: its principal, or (API_AUTH=keys) the function-key holder; else UNAUTHENTICATED. */
export function callerOf(req: HttpRequest): Caller {
  const principal = principalOf(req);
  if (principal) return principal;
  if (apiAuthMode() === 'keys') return { name: 'function key', upn: '', roles: ['Backup.Admin'], via: 'key' };
  throw new BackupError('UNAUTHENTICATED', 'Sign in first: this call needs a signed-in caller (App Service Authentication).');
}

/** What an endpoint lets in: roles, or "signed-in" for any authenticated caller (GET /api/me). */
export type Access = readonly Role[] | 'signed-in';

/** The caller if they hold one of the roles (Backup.Admin holds every role); FORBIDDEN otherwise. */
export function authorize(req: HttpRequest, access: Access): Caller {
  const caller = callerOf(req);
  if (access === 'signed-in' || caller.roles.includes('Backup.Admin')) return caller;
  if (!caller.roles.some((r) => access.includes(r)))
    throw new BackupError('FORBIDDEN', `This call needs the app role ${access.join(' or ')} (or Backup.Admin); ${caller.roles.length ? `you have ${caller.roles.join(', ')}` : 'you have no Backup role'}.`);
  return caller;
}

/** Whether the caller may only act on their own data (Backup.SelfService and nothing more). */
export const selfServiceOnly = (c: Caller) => c.roles.includes('Backup.SelfService') && !c.roles.includes('Backup.Admin') && !c.roles.includes('Backup.Operator');

/** A self-service caller asking about another user (or every user) is refused. */
export function checkOwnUser(caller: Caller, user: string | undefined): void {
  if (caller.roles.includes('Backup.Admin') || caller.roles.includes('Backup.Operator')) return;
  if (!user || user.toLowerCase() !== caller.upn) throw new BackupError('FORBIDDEN', 'A self-service caller may see only their own mailbox and OneDrive: name yourself as "user".');
}

export const CSRF_COOKIE = 'm365b-csrf';
export const CSRF_HEADER = 'x-csrf-token';

export function cookieOf(req: HttpRequest, name: string): string | undefined {
  for (const part of (req.headers.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * CSRF: a state-changing request that carries cookies (a browser session: the platform's session
 * cookie rides along by itself) must echo the console's CSRF cookie in the X-CSRF-Token header
 * (double submit: another site can make the browser send the cookie, never read it to set the
 * header). A request without cookies (a script with a key or a bearer token) is not forgeable this way.
 */
export function checkCsrf(req: HttpRequest): void {
  if (['GET', 'HEAD', 'OPTIONS'].includes(req.method.toUpperCase())) return;
  if (!req.headers.get('cookie')) return;
  const cookie = cookieOf(req, CSRF_COOKIE) ?? '';
  const header = req.headers.get(CSRF_HEADER) ?? '';
  const ok = cookie.length >= 16 && cookie.length === header.length && timingSafeEqual(Buffer.from(cookie), Buffer.from(header));
  if (!ok) throw new BackupError('FORBIDDEN', 'A state-changing call from a browser session needs the X-CSRF-Token header matching the m365b-csrf cookie (the console sends it; reload the page).');
}
