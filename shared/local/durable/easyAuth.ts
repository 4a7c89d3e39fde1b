import { createHash, createPublicKey, randomBytes, timingSafeEqual, verify, type JsonWebKey } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * App Service Authentication ("Easy Auth") for the local host: what the platform does in front of
 * the Function App in Azure, done here against any OpenID Connect provider (the tenant simulator's
 * identity endpoints in the demo and tests). Sign-in is the authorization-code flow with PKCE (S256),
 * `state` and `nonce`; the id_token's RS256 signature, issuer, audience, expiry and nonce are checked
 * against the provider's metadata and keys. After sign-in every request carrying the session cookie
 * reaches the functions with the platform's `X-MS-CLIENT-PRINCIPAL` headers; those headers are
 * always removed from incoming requests first, so a client can never set them.
 *
 *   /.auth/login/aad[?post_login_redirect_uri=/path]  starts a sign-in
 *   /.auth/login/aad/callback                          the redirect URI (as in Azure)
 *   /.auth/logout[?post_logout_redirect_uri=/path]    ends the session
 *   /.auth/me                                          the session's claims (JSON), as in Azure
 */
export interface LocalAuthOptions {
  /** The provider's issuer, e.g. https://127.0.0.1:PORT/<tenant-id>/v2.0 (metadata under /.well-known/). */
  issuer: string;
  clientId: string;
  /** Session length (Easy Auth's default cookie lifetime is 8 hours). */
  sessionMinutes?: number;
}

interface Pending {
  verifier: string;
  nonce: string;
  returnTo: string;
  expires: number;
}

interface Session {
  principal: string;
  name: string;
  id: string;
  claims: Record<string, unknown>;
  expires: number;
}

interface Metadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

export const SESSION_COOKIE = 'AppServiceAuthSession';
const STATE_COOKIE = 'm365b-auth-state';
const PRINCIPAL_HEADERS = ['x-ms-client-principal', 'x-ms-client-principal-name', 'x-ms-client-principal-id', 'x-ms-client-principal-idp', 'x-ms-token-aad-id-token'];

const b64url = (b: Buffer) => b.toString('base64url');

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Only a path on this site: an absolute URL elsewhere would make sign-in an open redirect. */
function localPath(v: string | null, fallback: string): string {
  return v && v.startsWith('/') && !v.startsWith('//') && !v.includes('\\') ? v : fallback;
}

const page = (res: ServerResponse, status: number, title: string, text: string) => {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'", 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' });
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><main><h1>${esc(title)}</h1><p>${esc(text)}</p><p><a href="/api/console/">Back to the console</a></p></main></body></html>`);
};

export class LocalEasyAuth {
  private readonly pending = new Map<string, Pending>();
  private readonly sessions = new Map<string, Session>();
  private metadata?: Promise<Metadata>;

  constructor(private readonly options: LocalAuthOptions) {}

  private discover(): Promise<Metadata> {
    this.metadata ??= (async () => {
      const res = await fetch(`${this.options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
      if (!res.ok) throw new Error(`the identity provider's metadata answered ${res.status}`);
      return (await res.json()) as Metadata;
    })();
    this.metadata.catch(() => (this.metadata = undefined));
    return this.metadata;
  }

  /**
   * Removes the principal headers a client sent and, for a live session, adds the platform's own.
   * Returns the headers to hand to the function.
   */
  principalHeaders(req: IncomingMessage, headers: Record<string, string>): Record<string, string> {
    for (const h of PRINCIPAL_HEADERS) delete headers[h];
    const session = this.session(req);
    if (session) {
      headers['x-ms-client-principal'] = session.principal;
      headers['x-ms-client-principal-name'] = session.name;
      headers['x-ms-client-principal-id'] = session.id;
      headers['x-ms-client-principal-idp'] = 'aad';
    }
    return headers;
  }

  private session(req: IncomingMessage): Session | undefined {
    const sid = cookieOf(req, SESSION_COOKIE);
    if (!sid) return undefined;
    const s = this.sessions.get(sid);
    if (!s) return undefined;
    if (s.expires < Date.now()) {
      this.sessions.delete(sid);
      return undefined;
    }
    return s;
  }

  /** Answers /.auth/... requests; false for anything else. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (!url.pathname.startsWith('/.auth/')) return false;
    const secure = '; HttpOnly; Secure; Path=/';
    if (url.pathname === '/.auth/login/aad') {
      const meta = await this.discover();
      const state = b64url(randomBytes(24));
      const verifier = b64url(randomBytes(32));
      const nonce = b64url(randomBytes(16));
      this.pending.set(state, { verifier, nonce, returnTo: localPath(url.searchParams.get('post_login_redirect_uri'), '/api/console/'), expires: Date.now() + 10 * 60_000 });
      const authorize = new URL(meta.authorization_endpoint);
      authorize.search = new URLSearchParams({
        client_id: this.options.clientId,
        response_type: 'code',
        redirect_uri: `${url.origin}/.auth/login/aad/callback`,
        response_mode: 'query',
        scope: 'openid profile email',
        state,
        nonce,
        code_challenge: b64url(createHash('sha256').update(verifier).digest()),
        code_challenge_method: 'S256',
      }).toString();
      // The state cookie binds the callback to this browser (login CSRF); Lax, because the
      // provider's redirect back is a cross-site top-level navigation.
      res.writeHead(302, { Location: authorize.toString(), 'Set-Cookie': `${STATE_COOKIE}=${state}; SameSite=Lax; Max-Age=600${secure}`, 'Cache-Control': 'no-store' });
      res.end();
      return true;
    }
    if (url.pathname === '/.auth/login/aad/callback') {
      const state = url.searchParams.get('state') ?? '';
      const cookie = cookieOf(req, STATE_COOKIE) ?? '';
      const pending = this.pending.get(state);
      this.pending.delete(state);
      const same = state.length > 0 && state.length === cookie.length && timingSafeEqual(Buffer.from(state), Buffer.from(cookie));
      if (!pending || !same || pending.expires < Date.now()) {
        page(res, 400, 'Sign-in failed', 'The sign-in response does not belong to a sign-in started in this browser, or it expired. Start again.');
        return true;
      }
      if (url.searchParams.get('error')) {
        page(res, 401, 'Sign-in failed', `The identity provider refused the sign-in: ${url.searchParams.get('error_description') ?? url.searchParams.get('error')}`);
        return true;
      }
      try {
        const claims = await this.redeem(url.searchParams.get('code') ?? '', `${url.origin}/.auth/login/aad/callback`, pending);
        const sid = b64url(randomBytes(32));
        const name = String(claims.preferred_username ?? claims.name ?? claims.sub);
        this.sessions.set(sid, { principal: principalOf(claims), name, id: String(claims.oid ?? claims.sub), claims, expires: Date.now() + (this.options.sessionMinutes ?? 480) * 60_000 });
        // The session cookie: script cannot read it, sent only to this site, only over HTTPS. The
        // next hop is a page of this site (a same-site navigation), so the Strict cookie goes with it.
        res.writeHead(200, {
          'Set-Cookie': [`${SESSION_COOKIE}=${sid}; SameSite=Strict${secure}`, `${STATE_COOKIE}=; SameSite=Lax; Max-Age=0${secure}`],
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
          'Cache-Control': 'no-store',
          Refresh: `0; url=${pending.returnTo}`,
        });
        res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head><body><main><h1>Signed in</h1><p><a href="${pending.returnTo.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}">Continue to the console</a></p></main></body></html>`);
      } catch (e) {
        page(res, 401, 'Sign-in failed', String((e as Error).message));
      }
      return true;
    }
    if (url.pathname === '/.auth/logout') {
      const sid = cookieOf(req, SESSION_COOKIE);
      if (sid) this.sessions.delete(sid);
      res.writeHead(302, { Location: localPath(url.searchParams.get('post_logout_redirect_uri'), '/api/console/'), 'Set-Cookie': `${SESSION_COOKIE}=; SameSite=Strict; Max-Age=0${secure}`, 'Cache-Control': 'no-store' });
      res.end();
      return true;
    }
    if (url.pathname === '/.auth/me') {
      const s = this.session(req);
      res.writeHead(s ? 200 : 401, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(s ? [{ provider_name: 'aad', user_id: s.name, user_claims: Object.entries(s.claims).map(([typ, val]) => ({ typ, val: String(val) })) }] : []));
      return true;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `No ${url.pathname} here.` } }));
    return true;
  }

  /** The code grant with the PKCE verifier; the id_token verified; its claims. */
  private async redeem(code: string, redirectUri: string, pending: Pending): Promise<Record<string, unknown>> {
    const meta = await this.discover();
    const res = await fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: this.options.clientId, code, redirect_uri: redirectUri, code_verifier: pending.verifier }).toString(),
    });
    const body = (await res.json().catch(() => ({}))) as { id_token?: string; error?: string; error_description?: string };
    if (!res.ok || !body.id_token) throw new Error(`The identity provider refused the code: ${body.error_description ?? body.error ?? res.status}`);
    const jwks = (await (await fetch(meta.jwks_uri)).json()) as { keys: (JsonWebKey & { kid?: string })[] };
    const [h, p, s] = body.id_token.split('.');
    const header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString('utf8')) as { alg?: string; kid?: string };
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    if (header.alg !== 'RS256' || !jwk) throw new Error('The id_token is not signed with a key of the identity provider.');
    if (!verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s ?? '', 'base64url'))) throw new Error('The id_token signature does not verify.');
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const now = Date.now() / 1000;
    if (claims.iss !== meta.issuer) throw new Error('The id_token was issued by another issuer.');
    if (claims.aud !== this.options.clientId) throw new Error('The id_token is for another application.');
    if (typeof claims.exp !== 'number' || claims.exp < now - 60) throw new Error('The id_token has expired.');
    if (claims.nonce !== pending.nonce) throw new Error('The id_token does not answer this sign-in (nonce).');
    return claims;
  }
}

/** The platform's X-MS-CLIENT-PRINCIPAL: base64 JSON of the token's claims, roles one claim each. */
export function principalOf(claims: Record<string, unknown>): string {
  const list: { typ: string; val: string }[] = [];
  for (const [typ, val] of Object.entries(claims)) {
    if (Array.isArray(val)) for (const v of val) list.push({ typ, val: String(v) });
    else list.push({ typ, val: String(val) });
  }
  return Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: list, name_typ: 'name', role_typ: 'roles' })).toString('base64');
}
