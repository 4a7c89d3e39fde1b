import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { SimTenant, SimUserData } from '../tenant/model';
import type { LoopbackCertificate } from '../tls';
import { FaultInjector, WriteRefusals, type FaultKind, type FaultOptions } from './faults';
import { encode, graphError, json, readBody, type SimRequest, type SimResponse } from './http';
import { SimIdentity } from './identity';
import { MailboxLimiter, TEAMS_MESSAGE_LIMITS, TenantLimiter, type MailboxLimits, type TenantLimits } from './limits';
import { matchRoute } from './routes';
import { matchWriteRoute } from './writeRoutes';
import { UploadSessions } from './uploadSessions';
import { forEachConcurrent } from '../../shared/concurrency';

export interface GraphSimulatorOptions {
  tenants: SimTenant[];
  tls: LoopbackCertificate;
  port?: number;
  /** Added to every request before it is answered. */
  latencyMs?: number;
  /** Outlook's per-mailbox limits; undefined = not enforced. */
  limits?: MailboxLimits;
  /** Limits per app per tenant across all clients (concurrency, requests per window); undefined = not enforced. */
  tenantLimits?: TenantLimits;
  faults?: FaultOptions;
  /** Teams' limit shared by channel message delta and replies, per app per tenant (default 60 a minute, enforced). */
  teamsLimits?: MailboxLimits;
  /** Lifetime of pre-authenticated download URLs. */
  downloadUrlTtlMs?: number;
}

export interface SimulatorStats {
  /** Requests by route name (e.g. "mail.value", "drive.delta", "download"), faults and 429s included. */
  requests: Map<string, number>;
  /** Entities returned in delta pages, by route name. */
  items: Map<string, number>;
  /** 429 answers from the enforced mailbox and tenant limits (not injected ones). */
  throttled: number;
  /** 429 answers from the enforced tenant limits alone. */
  tenantThrottled: number;
  /** 429 answers from the enforced tenant limits, by the limit's message (request window or concurrency). */
  tenantThrottledBy: Map<string, number>;
  /** Graph requests received per tenant id (batch envelopes not counted, their requests are; downloads are). */
  tenantRequests: Map<string, number>;
  /** Arrival times of the requests the tenant limits admitted, per tenant id (for budget use). */
  tenantArrivals: Map<string, number[]>;
  /** Largest number of requests in flight at once for one tenant. */
  peakTenantConcurrency: number;
  /** Largest number of requests in flight at once against one mailbox. */
  peakMailboxConcurrency: number;
  downloadedBytes: number;
  /** Every request line and Authorization header value seen, for secret-leak scans. */
  seenHeaders: string[];
  /** Arrival times of Outlook requests per mailbox (for the budget-use benchmark). */
  mailboxArrivals: Map<string, number[]>;
}

/** The most requests one mailbox received within any window of `windowMs`. */
export function peakWindowUse(arrivals: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; j < arrivals.length; j++) {
    while (arrivals[j]! - arrivals[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

export interface GraphSimulator {
  /** https://127.0.0.1:PORT — the GRAPH_BASE_URL and AZURE_AUTHORITY_HOST. */
  origin: string;
  stats: SimulatorStats;
  faults: FaultInjector;
  /** Fault knob: one user's writes of one service answer 403 (see WriteRefusals). */
  writeRefusals: WriteRefusals;
  limiter: MailboxLimiter;
  tenantLimiter: TenantLimiter;
  identity: SimIdentity;
  /** Upload sessions of restore writes (fragments received, Authorization headers refused). */
  uploads: UploadSessions;
  resetStats(): void;
  /** Expires every delta token issued so far for a site (its libraries and lists) or a team (its channels). */
  expireScopeTokens(tenant: SimTenant, scopeId: string): void;
  /** 429 answers of the Teams message limit (part of `stats.throttled`). */
  teamsThrottled(): number;
  /** Arrival times of the requests the Teams message limit admitted (for the benchmark's budget use). */
  teamsArrivals(): number[];
  /** Expires every delta token issued so far for this user (their next delta answers 410). */
  expireDeltaTokens(tenant: SimTenant, user: string): void;
  setLatency(ms: number): void;
  stop(): Promise<void>;
}

interface DownloadGrant {
  tenantId: string;
  u: SimUserData;
  itemId: string;
  expires: number;
}

const newStats = (): SimulatorStats => ({
  requests: new Map(),
  items: new Map(),
  throttled: 0,
  tenantThrottled: 0,
  tenantThrottledBy: new Map(),
  tenantRequests: new Map(),
  tenantArrivals: new Map(),
  peakTenantConcurrency: 0,
  peakMailboxConcurrency: 0,
  downloadedBytes: 0,
  seenHeaders: [],
  mailboxArrivals: new Map(),
});
const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

/**
 * A Microsoft 365 tenant simulator over HTTPS: the identity platform's token endpoint, the Graph
 * v1.0 routes a backup uses, pre-authenticated download URLs, JSON batching, Outlook's limits and
 * fault injection. Everything is in memory; tests mutate tenants directly through TenantEditor.
 */
export async function startGraphSimulator(options: GraphSimulatorOptions): Promise<GraphSimulator> {
  let origin = '';
  let latency = options.latencyMs ?? 0;
  const stats = newStats();
  const faults = new FaultInjector(options.faults);
  const writeRefusals = new WriteRefusals();
  const limiter = new MailboxLimiter(options.limits);
  const teamsLimiter = new MailboxLimiter(options.teamsLimits ?? TEAMS_MESSAGE_LIMITS);
  let teamsThrottled = 0;
  const teamsArrivals: number[] = [];
  const tenantLimiter = new TenantLimiter(options.tenantLimits);
  /** Counts one request against its tenant's limits: undefined when admitted (call the release), else the 429. */
  const admitTenant = (tenantId: string): SimResponse | undefined => {
    bump(stats.tenantRequests, tenantId);
    const admitted = tenantLimiter.admit(tenantId);
    if (!admitted.ok) {
      stats.throttled++;
      stats.tenantThrottled++;
      bump(stats.tenantThrottledBy, admitted.reason);
      return graphError(429, 'TooManyRequests', admitted.reason, { 'Retry-After': String(admitted.retryAfterSeconds) });
    }
    if (tenantLimiter.limits) {
      let arrivals = stats.tenantArrivals.get(tenantId);
      if (!arrivals) stats.tenantArrivals.set(tenantId, (arrivals = []));
      arrivals.push(Date.now());
      stats.peakTenantConcurrency = Math.max(stats.peakTenantConcurrency, tenantLimiter.inFlight(tenantId));
    }
    return undefined;
  };
  const identity = new SimIdentity(options.tenants, () => origin);
  const grants = new Map<string, DownloadGrant>();
  const floors = new Map<string, number>();
  const inFlight = new Map<string, number>();
  const ttl = options.downloadUrlTtlMs ?? 3_600_000;

  const uploads = new UploadSessions(() => origin);
  const ctx = {
    get origin() {
      return origin;
    },
    roles: (authorization: string | undefined) => identity.rolesOf(authorization),
    uploads,
    floor: (u: SimUserData) => floors.get(u.user.id) ?? 0,
    floorOf: (id: string) => floors.get(id) ?? 0,
    downloadUrl: (t: SimTenant, u: SimUserData, itemId: string) => {
      const token = randomBytes(18).toString('base64url');
      grants.set(token, { tenantId: t.tenantId, u, itemId, expires: Date.now() + ttl });
      return `${origin}/_download/${token}?tempauth=${randomBytes(24).toString('base64url')}`;
    },
  };

  function download(req: SimRequest, fault: FaultKind | undefined): SimResponse {
    bump(stats.requests, 'download');
    const token = req.url.pathname.split('/')[2] ?? '';
    const grant = grants.get(token);
    if (grant) {
      const refused = admitTenant(grant.tenantId);
      if (refused) return refused;
      tenantLimiter.release(grant.tenantId); // the body is written at once: in flight only while answered
    }
    if (!grant || grant.expires < Date.now() || fault === 'expireDownloadUrl') {
      if (grant && fault === 'expireDownloadUrl') grants.delete(token);
      return json(401, { error: { code: 'unauthenticated', message: 'The access token has expired or is not yet valid.' } });
    }
    const item = grant.u.drive.get(grant.itemId);
    if (!item?.content) return json(404, { error: { code: 'itemNotFound', message: 'The resource could not be found.' } });
    const content = item.content;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), content.length - 1) : content.length - 1;
      if (start >= content.length) return { status: 416, headers: { 'Content-Range': `bytes */${content.length}` } };
      stats.downloadedBytes += end - start + 1;
      return { status: 206, headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `bytes ${start}-${end}/${content.length}` }, bytes: content.subarray(start, end + 1) };
    }
    stats.downloadedBytes += content.length;
    return { status: 200, headers: { 'Content-Type': 'application/octet-stream' }, bytes: content };
  }

  /** Answers one Graph request (also a request inside $batch). Returns undefined for "reset the connection". */
  async function graph(req: SimRequest, tenant: SimTenant, allowWireFaults: boolean): Promise<SimResponse | 'reset' | 'truncate'> {
    const route = matchWriteRoute(req, tenant, ctx) ?? matchRoute(req, tenant, ctx);
    if (!route) return graphError(400, 'BadRequest', `Resource not found for the segment '${req.url.pathname}'.`);
    bump(stats.requests, route.name);
    const userIdOf = (user: string) => {
      try {
        return tenant.user(user).user.id;
      } catch {
        return undefined;
      }
    };
    if (writeRefusals.refuses(req.method, req.url.pathname, userIdOf)) return graphError(403, 'ErrorAccessDenied', 'Access to this mailbox or drive is denied by an administrator policy (injected).');
    const fault = faults.pick({ deltaWithToken: route.deltaWithToken, download: false });
    if (fault === 'throttle') return graphError(429, 'TooManyRequests', 'Too many requests (injected).', { 'Retry-After': faults.retryAfterHeader() });
    if (fault === 'unavailable') return graphError(503, 'serviceNotAvailable', 'Service unavailable (injected).', { 'Retry-After': faults.retryAfterHeader() });
    if (fault === 'gone') return graphError(410, route.name.startsWith('drive') ? 'resyncRequired' : 'syncStateNotFound', 'The sync state is not found (injected).', { Location: `${origin}${req.url.pathname}` });
    if (allowWireFaults && fault === 'reset') return 'reset';
    const refused = admitTenant(tenant.tenantId);
    if (refused) return refused;
    let mailboxAdmitted = false;
    try {
      if (route.teamsMessages) {
        const admitted = teamsLimiter.admit(tenant.tenantId);
        if (!admitted.ok) {
          stats.throttled++;
          teamsThrottled++;
          return graphError(429, 'TooManyRequests', 'Application is over its limit of channel message requests.', { 'Retry-After': String(admitted.retryAfterSeconds) });
        }
        teamsLimiter.release(tenant.tenantId);
        teamsArrivals.push(Date.now());
      }
      if (route.mailbox) {
        let arrivals = stats.mailboxArrivals.get(route.mailbox);
        if (!arrivals) stats.mailboxArrivals.set(route.mailbox, (arrivals = []));
        arrivals.push(Date.now());
        const admitted = limiter.admit(route.mailbox);
        if (!admitted.ok) {
          stats.throttled++;
          return graphError(429, 'ApplicationThrottled', admitted.reason, { 'Retry-After': String(admitted.retryAfterSeconds) });
        }
        mailboxAdmitted = true;
        const n = (inFlight.get(route.mailbox) ?? 0) + 1;
        inFlight.set(route.mailbox, n);
        stats.peakMailboxConcurrency = Math.max(stats.peakMailboxConcurrency, n);
      }
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));
      const r = route.run();
      const value = (r.json as { value?: unknown[] } | undefined)?.value;
      if (Array.isArray(value)) bump(stats.items, route.name, value.length);
      if (allowWireFaults && fault === 'truncate') return Object.assign(r, { truncate: true }) as SimResponse;
      return r;
    } finally {
      tenantLimiter.release(tenant.tenantId);
      if (route.mailbox && mailboxAdmitted) {
        limiter.release(route.mailbox);
        inFlight.set(route.mailbox, (inFlight.get(route.mailbox) ?? 1) - 1);
      }
    }
  }

  async function batch(req: SimRequest, tenant: SimTenant): Promise<SimResponse> {
    let body: { requests?: { id: string; method: string; url: string; headers?: Record<string, string> }[] };
    try {
      body = JSON.parse(req.body.toString('utf8')) as typeof body;
    } catch {
      return graphError(400, 'BadRequest', 'Invalid batch payload.');
    }
    const requests = body.requests ?? [];
    if (!Array.isArray(requests) || requests.length === 0 || requests.length > 20) return graphError(400, 'BadRequest', 'A batch holds 1 to 20 requests.');
    // Like Outlook, at most 4 requests of a batch run at once.
    const responses: Record<string, unknown>[] = [];
    await forEachConcurrent(requests, 4, async (r) => {
      responses.push(
        await (async () => {
        const sub: SimRequest = { method: r.method ?? 'GET', url: new URL(`/v1.0${r.url.startsWith('/') ? '' : '/'}${r.url}`, origin), headers: { ...req.headers, ...lower(r.headers ?? {}) }, body: Buffer.alloc(0) };
        const res = (await graph(sub, tenant, false)) as SimResponse;
        const out: Record<string, unknown> = { id: r.id, status: res.status, headers: res.headers ?? {} };
        if (res.json !== undefined) out.body = res.json;
        else if (res.bytes) out.body = res.bytes.toString('base64');
        return out;
        })(),
      );
    });
    return json(200, { responses });
  }

  async function handle(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    const req: SimRequest = { method: raw.method ?? 'GET', url: new URL(raw.url ?? '/', origin), headers: raw.headers as Record<string, string | undefined>, body: await readBody(raw) };
    stats.seenHeaders.push(`${req.method} ${req.url.pathname}${req.url.search} ${raw.headers.authorization ?? ''}`);
    if (stats.seenHeaders.length > 100_000) stats.seenHeaders.splice(0, 50_000);
    const auth = identity.handle(req);
    if (auth) return write(res, auth);
    if (req.url.pathname.startsWith('/_download/')) {
      const fault = faults.pick({ deltaWithToken: false, download: true });
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));
      if (fault === 'reset') return void raw.socket.destroy();
      if (fault === 'throttle' || fault === 'unavailable') return write(res, graphError(fault === 'throttle' ? 429 : 503, 'activityLimitReached', 'Injected.', { 'Retry-After': faults.retryAfterHeader() }));
      const r = download(req, fault);
      return write(res, r, fault === 'truncate');
    }
    if (req.url.pathname.startsWith('/_upload/')) {
      bump(stats.requests, 'upload');
      return write(res, uploads.handle(req));
    }
    const tenant = identity.authenticate(raw.headers.authorization);
    if (!tenant) return write(res, graphError(401, 'InvalidAuthenticationToken', raw.headers.authorization ? 'Access token validation failure. Invalid audience.' : 'Access token is empty.'));
    if (req.url.pathname === '/v1.0/$batch' && req.method === 'POST') return write(res, await batch(req, tenant));
    const r = await graph(req, tenant, true);
    if (r === 'reset') return void raw.socket.destroy();
    write(res, r as SimResponse, (r as { truncate?: boolean }).truncate === true);
  }

  function write(res: ServerResponse, r: SimResponse, truncate = false): void {
    const { headers, body } = encode(r);
    res.writeHead(r.status, headers);
    if (truncate && body.length >= 2) {
      // Headers promise the full length; half the body arrives, then the connection drops.
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => (res.socket as Socket | null)?.destroy());
      return;
    }
    res.end(body);
  }

  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) write(res, graphError(500, 'generalException', String((e as Error)?.message ?? e)));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  return {
    origin,
    stats,
    faults,
    writeRefusals,
    limiter,
    tenantLimiter,
    identity,
    uploads,
    resetStats: () => Object.assign(stats, newStats()),
    expireScopeTokens: (tenant, scopeId) => floors.set(scopeId, tenant.version + 1),
    teamsThrottled: () => teamsThrottled,
    teamsArrivals: () => [...teamsArrivals],
    expireDeltaTokens: (tenant, user) => floors.set(tenant.user(user).user.id, tenant.version + 1),
    setLatency: (ms) => {
      latency = ms;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}
