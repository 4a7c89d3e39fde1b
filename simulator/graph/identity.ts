import { createPublicKey, randomBytes, verify, X509Certificate } from 'node:crypto';
import type { SimTenant } from '../tenant/model';
import { json, type SimRequest, type SimResponse } from './http';
import { SimSignIn } from './signIn';

interface IssuedToken {
  tenant: SimTenant;
  clientId: string;
  expires: number;
}

/**
 * The Microsoft identity platform, as far as client-credentials flows need it: the OpenID metadata
 * MSAL reads (`/{tenant}/v2.0/.well-known/openid-configuration`) and the token endpoint
 * (`/{tenant}/oauth2/v2.0/token`), checking a client secret or a certificate-signed client assertion;
 * and a web app's interactive sign-in (signIn.ts: `/authorize`, the code grant, `/discovery/v2.0/keys`).
 */
export class SimIdentity {
  private readonly tokens = new Map<string, IssuedToken>();
  /** Token requests that failed authentication (for tests). */
  failures = 0;
  /** Interactive sign-in: register web apps and their users with `identity.signIn.register(...)`. */
  readonly signIn: SimSignIn;

  constructor(
    private readonly tenants: SimTenant[],
    private readonly origin: () => string,
    private readonly tokenLifetimeSeconds = 3600,
  ) {
    this.signIn = new SimSignIn(origin);
  }

  private tenantOf(idOrDomain: string): SimTenant | undefined {
    return this.tenants.find((t) => t.tenantId === idOrDomain || t.domain === idOrDomain);
  }

  handle(req: SimRequest): SimResponse | undefined {
    const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token|oauth2\/v2\.0\/authorize|discovery\/v2\.0\/keys)$/.exec(req.url.pathname);
    if (!m) return undefined;
    const tenant = this.tenantOf(decodeURIComponent(m[1]!));
    if (!tenant) return json(400, { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${m[1]}' not found.`, error_codes: [90002] });
    const base = `${this.origin()}/${tenant.tenantId}`;
    if (m[2]!.startsWith('v2.0')) {
      return json(200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${base}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${this.origin()}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid', 'nonce', 'name', 'preferred_username', 'oid', 'roles'],
        code_challenge_methods_supported: ['S256'],
        tenant_region_scope: 'EU',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
      });
    }
    if (m[2] === 'oauth2/v2.0/authorize') return this.signIn.authorize(tenant, req);
    if (m[2] === 'discovery/v2.0/keys') return this.signIn.jwks();
    if (req.method !== 'POST') return json(405, { error: 'invalid_request', error_description: 'POST required.' });
    const form = new URLSearchParams(req.body.toString('utf8'));
    const clientId = form.get('client_id') ?? '';
    const app = tenant.apps.find((a) => a.clientId === clientId);
    if (form.get('grant_type') === 'authorization_code') return this.signIn.redeem(tenant, form);
    if (form.get('grant_type') !== 'client_credentials') return json(400, { error: 'unsupported_grant_type', error_description: 'AADSTS70003: client_credentials only.' });
    if (!app) {
      this.failures++;
      return json(400, { error: 'unauthorized_client', error_description: `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant.domain}'.`, error_codes: [700016] });
    }
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    const ok = secret !== null ? app.clientSecret !== undefined && secret === app.clientSecret : assertion !== null && !!app.certificatePem && assertionValid(assertion, app.certificatePem, clientId);
    if (!ok) {
      this.failures++;
      return json(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.', error_codes: [7000215] });
    }
    const token = issueJwt(tenant.tenantId, clientId, this.tokenLifetimeSeconds, app.roles ?? READ_ROLES);
    this.tokens.set(token, { tenant, clientId, expires: Date.now() + this.tokenLifetimeSeconds * 1000 });
    return json(200, { token_type: 'Bearer', expires_in: this.tokenLifetimeSeconds, ext_expires_in: this.tokenLifetimeSeconds, access_token: token });
  }

  /** Every access token issued so far (tests scan storage and logs for them). */
  issuedTokens(): string[] {
    return [...this.tokens.keys()];
  }

  /** The application permissions of a bearer token's app (what write routes check). */
  rolesOf(authorization: string | undefined): string[] {
    const t = authorization?.startsWith('Bearer ') ? this.tokens.get(authorization.slice(7)) : undefined;
    if (!t) return [];
    return t.tenant.apps.find((a) => a.clientId === t.clientId)?.roles ?? READ_ROLES;
  }

  /** The tenant a bearer token was issued for, or undefined. */
  authenticate(authorization: string | undefined): SimTenant | undefined {
    if (!authorization?.startsWith('Bearer ')) return undefined;
    const t = this.tokens.get(authorization.slice(7));
    if (!t || t.expires < Date.now()) return undefined;
    return t.tenant;
  }
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A JWT-shaped opaque token (the simulator keeps its own list; the signature is random). */
const READ_ROLES = ['Files.Read.All', 'Mail.Read', 'Calendars.Read', 'Contacts.Read', 'User.Read.All'];

function issueJwt(tid: string, appid: string, lifetime: number, roles: string[]): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64url({ typ: 'JWT', alg: 'RS256' })}.${b64url({ aud: 'https://graph.microsoft.com', tid, appid, roles, iat: now, exp: now + lifetime })}.${randomBytes(32).toString('base64url')}`;
}

/** Checks an RS256/PS256 client assertion against the registered certificate. */
function assertionValid(assertion: string, certificatePem: string, clientId: string): boolean {
  try {
    const [h, p, s] = assertion.split('.');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')) as { alg?: string };
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as { sub?: string; exp?: number };
    if (payload.sub !== clientId || (payload.exp ?? 0) * 1000 < Date.now()) return false;
    const key = createPublicKey(new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'pem' }));
    const data = Buffer.from(`${h}.${p}`);
    const sig = Buffer.from(s!, 'base64url');
    if (header.alg === 'PS256') return verify('sha256', data, { key, padding: 6, saltLength: 32 }, sig);
    return verify('sha256', data, key, sig);
  } catch {
    return false;
  }
}
