import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { SimTenant } from '../tenant/model';
import { json, type SimRequest, type SimResponse } from './http';

/**
 * Interactive sign-in of the Microsoft identity platform, as far as a web app needs it (the
 * console's App Service Authentication, done locally by shared/local/durable/easyAuth.ts): the
 * authorization endpoint with a login page, the authorization-code grant with PKCE on the token
 * endpoint, and id_tokens signed RS256 with the simulator's key (published as JWKS). Demo users and
 * their app roles are registered per web app, as app role assignments are in Entra ID.
 */
export interface SimSignInUser {
  /** The sign-in name (UPN), also `preferred_username`. */
  username: string;
  password: string;
  displayName: string;
  /** App roles assigned to the user for this app (the id_token's `roles` claim). */
  roles: string[];
  oid?: string;
}

export interface SimWebApp {
  clientId: string;
  redirectUris: string[];
  users: SimSignInUser[];
}

interface IssuedCode {
  tenant: SimTenant;
  app: SimWebApp;
  user: SimSignInUser;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  expires: number;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export class SimSignIn {
  private readonly apps = new Map<string, { tenant: SimTenant; app: SimWebApp }>();
  private readonly codes = new Map<string, IssuedCode>();
  private readonly key: KeyObject;
  readonly kid = randomBytes(8).toString('hex');
  private readonly publicJwk: Record<string, unknown>;

  constructor(private readonly origin: () => string) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.key = pair.privateKey;
    this.publicJwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: this.kid, use: 'sig', alg: 'RS256', kty: 'RSA' };
  }

  /** Registers a web app (client id, redirect URIs) with its users and their app roles. */
  register(tenant: SimTenant, app: SimWebApp): void {
    this.apps.set(`${tenant.tenantId}/${app.clientId}`, { tenant, app: { ...app, users: app.users.map((u) => ({ ...u, oid: u.oid ?? randomUUID() })) } });
  }

  jwks(): SimResponse {
    return json(200, { keys: [this.publicJwk] });
  }

  /** GET: the login page; POST: the submitted form → redirect to the app with a code (or the page again). */
  authorize(tenant: SimTenant, req: SimRequest): SimResponse {
    const q = req.method === 'POST' ? new URLSearchParams(req.body.toString('utf8')) : req.url.searchParams;
    const clientId = q.get('client_id') ?? '';
    const redirectUri = q.get('redirect_uri') ?? '';
    const entry = this.apps.get(`${tenant.tenantId}/${clientId}`);
    if (!entry) return loginError(400, `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant.domain}'.`);
    // An unregistered redirect URI is refused outright: the code must never go anywhere else.
    if (!entry.app.redirectUris.includes(redirectUri)) return loginError(400, `AADSTS50011: The redirect URI '${redirectUri}' does not match the redirect URIs configured for the application.`);
    const back = (params: Record<string, string>) => {
      const u = new URL(redirectUri);
      for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
      return { status: 302, headers: { Location: u.toString(), 'Cache-Control': 'no-store' }, bytes: Buffer.alloc(0) };
    };
    const state = q.get('state') ?? '';
    if (q.get('response_type') !== 'code') return back({ error: 'unsupported_response_type', error_description: 'AADSTS700054: response_type code only.', state });
    const challenge = q.get('code_challenge') ?? '';
    if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return back({ error: 'invalid_request', error_description: 'AADSTS501491: PKCE with code_challenge_method S256 is required.', state });
    const hidden = ['client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method']
      .map((k) => `<input type="hidden" name="${k}" value="${esc(q.get(k) ?? '')}">`)
      .join('');
    if (req.method !== 'POST') return loginPage(tenant, hidden, redirectUri);
    const username = (q.get('username') ?? '').trim().toLowerCase();
    const user = entry.app.users.find((u) => u.username.toLowerCase() === username);
    const password = Buffer.from(q.get('password') ?? '');
    const ok = !!user && password.length === Buffer.byteLength(user.password) && timingSafeEqual(password, Buffer.from(user.password));
    if (!ok) return loginPage(tenant, hidden, redirectUri, 'AADSTS50126: Error validating credentials due to invalid username or password.');
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, { tenant, app: entry.app, user: user!, redirectUri, challenge, ...(q.get('nonce') ? { nonce: q.get('nonce')! } : {}), expires: Date.now() + 5 * 60_000 });
    return back({ code, state });
  }

  /** The authorization_code grant: one use, same client and redirect URI, PKCE verifier checked. */
  redeem(tenant: SimTenant, form: URLSearchParams): SimResponse {
    const code = form.get('code') ?? '';
    const issued = this.codes.get(code);
    this.codes.delete(code);
    const bad = (d: string) => json(400, { error: 'invalid_grant', error_description: d });
    if (!issued || issued.expires < Date.now() || issued.tenant !== tenant) return bad('AADSTS70008: The provided authorization code or refresh token has expired or was already used.');
    if (issued.app.clientId !== form.get('client_id') || issued.redirectUri !== form.get('redirect_uri')) return bad('AADSTS50148: The code was issued to another client or redirect URI.');
    const verifier = form.get('code_verifier') ?? '';
    if (createHash('sha256').update(verifier).digest('base64url') !== issued.challenge) return bad('AADSTS50148: The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.');
    const now = Math.floor(Date.now() / 1000);
    const u = issued.user;
    const claims = {
      aud: issued.app.clientId,
      iss: `${this.origin()}/${tenant.tenantId}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      name: u.displayName,
      preferred_username: u.username,
      oid: u.oid,
      sub: createHash('sha256').update(`${u.oid}/${issued.app.clientId}`).digest('base64url'),
      tid: tenant.tenantId,
      roles: u.roles,
      ver: '2.0',
      ...(issued.nonce ? { nonce: issued.nonce } : {}),
    };
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const data = `${enc({ typ: 'JWT', alg: 'RS256', kid: this.kid })}.${enc(claims)}`;
    const idToken = `${data}.${sign('sha256', Buffer.from(data), this.key).toString('base64url')}`;
    return json(200, { token_type: 'Bearer', scope: 'openid profile email', expires_in: 3600, id_token: idToken });
  }
}

function html(status: number, body: string, formTarget = ''): SimResponse {
  return {
    status,
    headers: { 'Content-Type': 'text/html; charset=utf-8', // form-action covers the redirect after the POST too: the app's redirect URI must be allowed.
    'Content-Security-Policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${formTarget}; frame-ancestors 'none'`, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' },
    bytes: Buffer.from(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in to your account</title><style>body{font:15px/1.5 system-ui,sans-serif;color:#1b1b1b;background:#f2f2f2;margin:0}main{max-width:420px;margin:48px auto;background:#fff;padding:24px 32px;border:1px solid #c9c9c9}label{display:block;margin:12px 0 4px}input[type=text],input[type=password]{width:100%;padding:6px;font:inherit;border:1px solid #767676}button{margin-top:16px;font:inherit;padding:6px 18px;background:#0b5cad;color:#fff;border:0}.error{color:#a4161a}</style></head><body><main>${body}</main></body></html>`),
  };
}

function loginPage(tenant: SimTenant, hidden: string, redirectUri: string, error?: string): SimResponse {
  return html(
    error ? 401 : 200,
    `<h1>Sign in</h1><p>Tenant simulator: ${esc(tenant.domain)}</p>${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}<form method="post">${hidden}<label for="username">Email or username</label><input type="text" id="username" name="username" autocomplete="username" required><label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required><button type="submit">Sign in</button></form>`,
    new URL(redirectUri).origin,
  );
}

function loginError(status: number, message: string): SimResponse {
  return html(status, `<h1>Sorry, but we're having trouble signing you in.</h1><p class="error" role="alert">${esc(message)}</p>`);
}

/**
 * The demo's console users (npm start and the console tests): one per app role, and one with none.
 * The self-service user is a real mailbox owner of the tenant, so "own data" means something.
 */
export function demoSignInUsers(tenant: SimTenant, password: string): SimSignInUser[] {
  const owner = [...tenant.users.values()].find((u) => u.user.hasMailbox && u.user.hasDrive)!.user;
  return [
    { username: `admin@${tenant.domain}`, password, displayName: 'Ada Admin', roles: ['Backup.Admin'] },
    { username: `operator@${tenant.domain}`, password, displayName: 'Otto Operator', roles: ['Backup.Operator'] },
    { username: owner.userPrincipalName, password, displayName: owner.displayName, roles: ['Backup.SelfService'] },
    { username: `guest@${tenant.domain}`, password, displayName: 'Gus Guest', roles: [] },
  ];
}
