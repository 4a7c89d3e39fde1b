import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startM365Suite, guidFor, type M365Suite, type SuiteTenant } from '../support/m365';
import { getJson, startFunctionsHost, waitForInstance, type FunctionsHostProcess } from '../support/functionsHost';
import { demoSignInUsers, type SimSignInUser } from '../../simulator/graph/signIn';
import yauzl from 'yauzl';

/**
 * What the console tests share: a simulated tenant with one backup run that has a failed item, the
 * console's web app registered in the simulator's identity platform with a demo user per app role,
 * and the local Functions host with its sign-in (App Service Authentication, locally) turned on.
 */
export interface ConsoleSuite {
  suite: M365Suite;
  contoso: SuiteTenant;
  host: FunctionsHostProcess;
  users: Record<'admin' | 'operator' | 'self' | 'none', SimSignInUser>;
  runId: string;
  /** The failed item's id and the reason the report gives. */
  failed: { id: string; reason: RegExp };
  stop(): Promise<void>;
}

const SHAPE = { users: 3, filesPerUser: 2, maxFileBytes: 20_000, messagesPerUser: 3, eventsPerUser: 1, contactsPerUser: 1, withoutMailbox: [], withoutDrive: [] };
export const CONSOLE_CLIENT_ID = guidFor('console-app');
const ROOT = join(__dirname, '..', '..', '..');

/** The browser code must be built (npm run build); a bare `tsc -p tsconfig.json` does not, so build it here. */
export function ensureWebBuilt(): void {
  if (existsSync(join(ROOT, 'dist', 'web', 'app.js'))) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'web', 'tsconfig.json')], { stdio: 'inherit' });
}

export async function startConsoleSuite(o: { apiAuth: 'entra' | 'keys' }): Promise<ConsoleSuite> {
  ensureWebBuilt();
  const suite = await startM365Suite([{ name: 'contoso', seed: 13, shape: SHAPE }]);
  const contoso = suite.tenants.get('contoso')!;
  // The one app registration reads and (for the console's in-place restores) writes.
  contoso.tenant.apps[0]!.roles = ['User.Read.All', 'Files.Read.All', 'Mail.Read', 'Calendars.Read', 'Contacts.Read', 'Files.ReadWrite.All', 'Mail.ReadWrite', 'Mail-Advanced.ReadWrite.All', 'Calendars.ReadWrite', 'Contacts.ReadWrite'];
  const [admin, operator, self, none] = demoSignInUsers(contoso.tenant, 'demo-sign-in-pw');
  const users = { admin: admin!, operator: operator!, self: self!, none: none! };
  assert.equal((await suite.addTenant('contoso')).code, 0);
  // One message that Graph serves malformed: the run's report names it with its reason.
  const victim = [...contoso.tenant.users.values()].find((u) => u.user.hasMailbox)!.user.userPrincipalName;
  const msg = contoso.editor.addMessage(victim, 'Inbox', { subject: 'broken on the wire', from: { name: 'b', address: 'b@p.example' }, to: [], text: 'z', received: new Date().toISOString() });
  contoso.editor.corrupt(victim, msg.id);
  const env = suite.processEnv({ API_AUTH: o.apiAuth, LOCAL_AUTH_OPENID_ISSUER: `${suite.sim.origin}/${contoso.tenant.tenantId}/v2.0`, LOCAL_AUTH_CLIENT_ID: CONSOLE_CLIENT_ID });
  const host = await startFunctionsHost(env, join(suite.work, 'durable'));
  suite.sim.identity.signIn.register(contoso.tenant, { clientId: CONSOLE_CLIENT_ID, redirectUris: [`${host.origin}/.auth/login/aad/callback`], users: Object.values(users) });
  const fire = await fetch(`${host.origin}/admin/functions/nightlyBackup`, { method: 'POST' });
  assert.equal(fire.status, 202);
  const runId = `nightly-contoso-${new Date().toISOString().slice(0, 10)}`;
  const done = await waitForInstance(host.origin, runId);
  assert.equal((done.output as { status: string }).status, 'partial', JSON.stringify(done.output));
  return {
    suite,
    contoso,
    host,
    users,
    runId,
    failed: { id: msg.id, reason: /malformed message/ },
    stop: async () => {
      await host.stop().catch(() => undefined);
      await suite.stop();
    },
  };
}

const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]!);

/** fetch() for the simulator (HTTPS under its own loopback CA, which this process does not trust globally). */
export function simFetch(suite: M365Suite, url: string | URL, init: { method?: string; body?: URLSearchParams } = {}): Promise<Response> {
  const ca = readFileSync(join(suite.work, 'sim-cert.pem'));
  return new Promise((resolve, reject) => {
    const body = init.body?.toString();
    const req = request(url, { method: init.method ?? 'GET', ca, headers: body ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) } : {} }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) headers.append(k, String(x));
        resolve(new Response(res.statusCode === 204 || res.statusCode === 304 ? null : Buffer.concat(parts), { status: res.statusCode ?? 500, headers }));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A real sign-in without a browser: /.auth/login/aad → the simulator's login form → the callback;
 * returns the cookies the browser would hold (session and, after GET /api/me, the CSRF token).
 */
export async function signIn(suite: M365Suite, origin: string, user: { username: string; password: string }): Promise<{ cookie: string; csrf: string }> {
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of cookiesOf(res)) {
      const [k, v] = [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)];
      if (v) jar.set(k, v);
      else jar.delete(k);
    }
  };
  const header = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const start = await fetch(`${origin}/.auth/login/aad`, { redirect: 'manual' });
  assert.equal(start.status, 302);
  keep(start);
  const authorize = new URL(start.headers.get('location')!);
  const form = new URLSearchParams(authorize.searchParams);
  form.set('username', user.username);
  form.set('password', user.password);
  const login = await simFetch(suite, authorize, { method: 'POST', body: form });
  assert.equal(login.status, 302, await login.text());
  const callback = await fetch(login.headers.get('location')!, { headers: { cookie: header() }, redirect: 'manual' });
  assert.equal(callback.status, 200, await callback.text());
  keep(callback);
  const me = await fetch(`${origin}/api/me`, { headers: { cookie: header() } });
  keep(me);
  return { cookie: header(), csrf: jar.get('m365b-csrf') ?? '' };
}

/** A message that was backed up, then deleted and backed up again: findable only in the history. */
export interface DeletedMessage {
  owner: string;
  id: string;
  subject: string;
  sender: string;
  received: string;
}

/**
 * Gives the self-service user's mailbox a history: one more message ("Quarterly numbers" from
 * carol@partner.example, 15 October 2026), a mail backup, the message deleted, another backup.
 */
export async function deletedMessageHistory(c: ConsoleSuite): Promise<DeletedMessage> {
  const owner = c.users.self.username;
  const m = { subject: 'Quarterly numbers', sender: 'carol@partner.example', received: '2026-10-15T09:30:00Z' };
  const added = c.contoso.editor.addMessage(owner, 'Inbox', { subject: m.subject, from: { name: 'Carol Finance', address: m.sender }, to: [{ name: 'Owner', address: owner }], text: 'Revenue <script>alert(1)</script> up 4%.', received: m.received });
  const operator = await signIn(c.suite, c.host.origin, c.users.operator);
  const backup = async () => {
    const r = await fetch(`${c.host.origin}/api/backups`, { method: 'POST', headers: { cookie: operator.cookie, 'x-csrf-token': operator.csrf }, body: JSON.stringify({ tenant: 'contoso', user: owner, services: ['mail'] }) });
    assert.equal(r.status, 202);
    await waitForInstance(c.host.origin, ((await r.json()) as { backups: { id: string }[] }).backups[0]!.id);
  };
  await backup();
  c.contoso.editor.deleteMessage(owner, added.id);
  await backup();
  return { owner, id: added.id, ...m };
}

export { getJson, waitForInstance };

/** Every entry of a zip held in memory: name -> content (folders, ending in "/", with an empty one). */
export function zipEntries(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((done, fail) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err || !file) return fail(err ?? new Error('not a zip'));
      const out = new Map<string, Buffer>();
      file.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) {
          out.set(entry.fileName, Buffer.alloc(0));
          return file.readEntry();
        }
        file.openReadStream(entry, (e, stream) => {
          if (e || !stream) return fail(e ?? new Error(`cannot read ${entry.fileName}`));
          const parts: Buffer[] = [];
          stream.on('data', (d: Buffer) => parts.push(d));
          stream.on('error', fail);
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(parts));
            file.readEntry();
          });
        });
      });
      file.on('end', () => done(out));
      file.on('error', fail);
      file.readEntry();
    });
  });
}
