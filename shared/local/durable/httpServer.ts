import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { registry, type RegisteredFunction } from './functionsCore';
import type { LocalDurableHost, InstanceStatus } from './host';
import { LocalEasyAuth, type LocalAuthOptions } from './easyAuth';

export interface LocalFunctionsServer {
  origin: string;
  /** Invokes a timer-triggered function now, or as of `at` (as the schedule would). */
  fireTimer(name: string, at?: string): Promise<void>;
  stop(): Promise<void>;
}

const RPC = '/runtime/webhooks/durabletask/';

interface Route {
  fn: RegisteredFunction;
  methods: string[];
  pattern: RegExp;
  params: string[];
}

function httpRoutes(): Route[] {
  const routes: Route[] = [];
  for (const fn of registry.values()) {
    const trigger = Object.values(fn.bindings).find((b) => b.type === 'httpTrigger');
    if (!trigger) continue;
    const route = String(trigger.route ?? fn.name);
    const params: string[] = [];
    // {name} is one segment; a trailing /{*name} is the rest of the path, possibly empty (as in Azure).
    const source = route.replace(/\/\{\*(\w+)\}$/, (_m, p: string) => (params.push(p), '(?:/(.*))?')).replace(/\{(\w+)\??\}/g, (_m, p: string) => (params.push(p), '([^/]+)'));
    const pattern = new RegExp(`^/api/${source}/?$`);
    routes.push({ fn, methods: ((trigger.methods as string[] | undefined) ?? ['GET', 'POST']).map((m) => m.toUpperCase()), pattern, params });
  }
  return routes;
}

/** The durable client binding's data: where df.getClient(context) sends its calls (this server). */
function clientData(origin: string) {
  const base = `${origin}${RPC}`;
  const mgmt = `${base}instances/INSTANCEID`;
  return {
    taskHubName: 'local',
    creationUrls: { createNewInstancePostUri: `${base}orchestrators/{functionName}[/{instanceId}]`, createAndWaitOnNewInstancePostUri: `${base}orchestrators/{functionName}[/{instanceId}]` },
    managementUrls: { id: 'INSTANCEID', statusQueryGetUri: mgmt, sendEventPostUri: `${mgmt}/raiseEvent/{eventName}`, terminatePostUri: `${mgmt}/terminate`, rewindPostUri: `${mgmt}/rewind`, purgeHistoryDeleteUri: mgmt, restartPostUri: `${mgmt}/restart`, suspendPostUri: `${mgmt}/suspend`, resumePostUri: `${mgmt}/resume` },
    baseUrl: base.slice(0, -1),
    requiredQueryStringParameters: '',
    rpcBaseUrl: base,
  };
}

/** An InvocationContext whose durable client input (if the function declares one) points here. */
function invocationContext(fn: RegisteredFunction, origin: string): InvocationContext {
  const extraInputs = Object.entries(fn.bindings)
    .filter(([, b]) => b.type === 'durableClient' || b.type === 'orchestrationClient')
    .map(([name, b]) => ({ name, type: b.type }));
  const ctx = new InvocationContext({ functionName: fn.name, invocationId: randomUUID(), options: { extraInputs } as never, logHandler: () => undefined });
  for (const input of extraInputs) ctx.extraInputs.set(input.name, clientData(origin));
  return ctx;
}

const statusJson = (s: InstanceStatus) => ({ name: s.name, instanceId: s.instanceId, runtimeStatus: s.runtimeStatus, input: s.input, output: s.output ?? null, customStatus: s.customStatus ?? null, createdTime: s.createdTime, lastUpdatedTime: s.lastUpdatedTime });

/** This process's peak resident memory (VmHWM; Linux), else the current RSS. */
function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Math.round(Number(m[1]) / 1024);
  } catch {
    // not Linux
  }
  return Math.round(process.memoryUsage().rss / 1048576);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/**
 * A local Functions front end: the app's HTTP functions under /api/..., and the subset of the
 * Durable extension's HTTP API that durable-functions' client uses (start an orchestration, get an
 * instance's status), answered by the local Durable host.
 */
export async function startLocalFunctionsServer(host: LocalDurableHost, options: { port?: number; auth?: LocalAuthOptions } = {}): Promise<LocalFunctionsServer> {
  let origin = '';
  // Registrations are complete before the server starts: match against one table.
  const routes = httpRoutes();
  // App Service Authentication, locally (the console's sign-in): always strips client-sent principal headers.
  const auth = options.auth ? new LocalEasyAuth(options.auth) : undefined;

  async function fireTimer(name: string, at?: string): Promise<void> {
    const fn = registry.get(name);
    if (!fn) throw new Error(`No function named ${name}.`);
    const now = at && !Number.isNaN(Date.parse(at)) ? new Date(at).toISOString() : new Date().toISOString();
    await fn.callback({ isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: now, next: now, lastUpdated: now } }, invocationContext(fn, origin));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    if (auth && (await auth.handle(req, res, url))) return;
    const body = await readBody(req);
    const send = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(json === undefined ? '' : JSON.stringify(json));
    };
    if (url.pathname.startsWith(RPC)) {
      const rest = url.pathname.slice(RPC.length).split('/').map(decodeURIComponent);
      if (rest[0] === 'orchestrators' && req.method === 'POST') {
        const text = body.toString('utf8');
        try {
          const id = await host.startNew(rest[1]!, { instanceId: rest[2], input: text ? JSON.parse(text) : undefined });
          return send(202, { id, statusQueryGetUri: `${origin}${RPC}instances/${id}` });
        } catch (e) {
          return send(409, { message: String((e as Error).message) });
        }
      }
      // The instance list (durable client getStatusBy/getStatusAll): the filters the client sends.
      if (rest[0] === 'instances' && !rest[1] && req.method === 'GET') {
        const fromT = Date.parse(url.searchParams.get('createdTimeFrom') ?? '');
        const toT = Date.parse(url.searchParams.get('createdTimeTo') ?? '');
        const statuses = url.searchParams.get('runtimeStatus')?.split(',').filter(Boolean);
        const list = host.list().filter((s) => (Number.isNaN(fromT) || Date.parse(s.createdTime) >= fromT) && (Number.isNaN(toT) || Date.parse(s.createdTime) <= toT) && (!statuses?.length || statuses.includes(s.runtimeStatus)));
        return send(200, list.map(statusJson));
      }
      if (rest[0] === 'instances' && rest[1] && req.method === 'GET') {
        const s = host.getStatus(rest[1]);
        if (!s) return send(404, { message: `No instance with ID '${rest[1]}' found.` });
        return send(s.runtimeStatus === 'Completed' || s.runtimeStatus === 'Failed' ? 200 : 202, statusJson(s));
      }
      // Local only (benchmarks): what this host wrote for Durable state, and its peak memory.
      if (rest[0] === 'stats' && req.method === 'GET') return send(200, { ...host.stats, instances: host.list().length, peakRssMiB: peakRssMiB() });
      return send(404, { message: 'Not supported by the local host.' });
    }
    // The Functions admin API for non-HTTP triggers: POST /admin/functions/<name> runs it now.
    const admin = /^\/admin\/functions\/([^/]+)$/.exec(url.pathname);
    if (admin && req.method === 'POST') {
      const fn = registry.get(decodeURIComponent(admin[1]!));
      if (!fn) return send(404, { error: { code: 'NOT_FOUND', message: `No function named ${admin[1]}.` } });
      // Body {"now": "<ISO time>"} fires it as of that time (a later night, in the demo).
      let at: string | undefined;
      try {
        at = (JSON.parse(body.toString('utf8') || '{}') as { now?: string }).now;
      } catch {
        return send(400, { error: { code: 'USAGE', message: 'The body must be JSON.' } });
      }
      await fireTimer(fn.name, at);
      return send(202);
    }
    // Several functions may share a route with different methods (GET and PUT of a policy), as in Azure.
    const matching = routes.filter((r) => r.pattern.test(url.pathname));
    const route = matching.find((r) => r.methods.includes(req.method ?? 'GET')) ?? matching[0];
    if (!route) return send(404, { error: { code: 'NOT_FOUND', message: `No function answers ${url.pathname}.` } });
    if (!route.methods.includes(req.method ?? 'GET')) return send(405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method} is not allowed on ${url.pathname}.` } });
    const m = route.pattern.exec(url.pathname)!;
    const params = Object.fromEntries(route.params.map((p, i) => [p, decodeURIComponent(m[i + 1] ?? '')]));
    let headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
    if (auth) headers = auth.principalHeaders(req, headers);
    const request = new HttpRequest({ method: req.method ?? 'GET', url: url.toString(), headers, params, ...(body.length && req.method !== 'GET' ? { body: { bytes: body } } : {}) });
    const result = (await route.fn.callback(request, invocationContext(route.fn, origin))) as HttpResponseInit | HttpResponse | undefined;
    const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? { status: 204 });
    const outHeaders: Record<string, string | string[]> = {};
    response.headers.forEach((v, k) => (outHeaders[k] = v));
    const cookies = response.headers.getSetCookie();
    if (cookies.length) outHeaders['set-cookie'] = cookies;
    const bytes = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, outHeaders);
    res.end(bytes);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'INTERNAL', message: String((e as Error)?.message ?? e) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  // durable-functions rewrites management URLs to localhost:7071 unless the host name is known.
  process.env.WEBSITE_HOSTNAME ??= origin.replace('http://', '');

  return {
    origin,
    fireTimer,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
