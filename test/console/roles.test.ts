import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { CONSOLE_CLIENT_ID, signIn, simFetch, startConsoleSuite, type ConsoleSuite } from './consoleSuite';

type Who = 'admin' | 'operator' | 'self' | 'none' | 'anonymous';
const WHO: Who[] = ['admin', 'operator', 'self', 'none', 'anonymous'];

/**
 * Every API call the console makes, for each kind of caller, behind App Service Authentication
 * (API_AUTH=entra, signed in through the simulator's identity pages): the status each one gets.
 */
describe('the console API checks roles (API_AUTH=entra, real OIDC sign-in against the simulator)', () => {
  let c: ConsoleSuite;
  const sessions = new Map<Who, { cookie: string; csrf: string }>();

  before(async () => {
    c = await startConsoleSuite({ apiAuth: 'entra' });
    for (const w of ['admin', 'operator', 'self', 'none'] as const) sessions.set(w, await signIn(c.suite, c.host.origin, c.users[w]));
    sessions.set('anonymous', { cookie: '', csrf: '' });
  });
  after(async () => c?.stop());

  const call = async (who: Who, path: string, o: { method?: string; body?: unknown; csrf?: boolean } = {}) => {
    const s = sessions.get(who)!;
    const headers: Record<string, string> = {};
    if (s.cookie) headers.cookie = s.cookie;
    if (o.method === 'POST' && o.csrf !== false && s.csrf) headers['x-csrf-token'] = s.csrf;
    const res = await fetch(`${c.host.origin}${path}`, { method: o.method ?? 'GET', headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown>, headers: res.headers };
  };

  const matrix = async (path: string, want: Record<Who, number>, o: { method?: string; body?: unknown } = {}) => {
    const got: Record<string, number> = {};
    for (const w of WHO) got[w] = (await call(w, path, o)).status;
    assert.deepEqual(got, want, `${o.method ?? 'GET'} ${path}`);
  };

  test('GET /api/me: every signed-in caller (roles listed), 401 signed out; sets the CSRF cookie', async () => {
    await matrix('/api/me', { admin: 200, operator: 200, self: 200, none: 200, anonymous: 401 });
    const me = await call('operator', '/api/me');
    assert.deepEqual(me.body.roles, ['Backup.Operator']);
    assert.equal(me.body.upn, c.users.operator.username);
    assert.equal((await call('self', '/api/me')).body.selfServiceOnly, true);
    assert.deepEqual((await call('none', '/api/me')).body.roles, []);
    const anon = await call('anonymous', '/api/me');
    assert.equal((anon.body.error as { code: string }).code, 'UNAUTHENTICATED');
    assert.equal(anon.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(sessions.get('admin')!.csrf.length >= 16, 'GET /api/me set the m365b-csrf cookie');
  });

  test('dashboard and run history (GET /api/tenants, /api/runs, /api/backups/{id}, /api/report): admin and operator only', async () => {
    const want = { admin: 200, operator: 200, self: 403, none: 403, anonymous: 401 };
    await matrix('/api/tenants', want);
    await matrix('/api/runs?tenant=contoso', want);
    await matrix(`/api/backups/${c.runId}`, want);
    await matrix('/api/report?tenant=contoso', want); // the dashboard's storage and cost per tier
    const forbidden = await call('self', '/api/tenants');
    assert.equal((forbidden.body.error as { code: string }).code, 'FORBIDDEN');
    const tenants = (await call('operator', '/api/tenants')).body.tenants as { name: string; lastBackup: { id: string; status: string; totals: { failed: number } } }[];
    assert.equal(tenants[0]!.name, 'contoso');
    assert.equal(tenants[0]!.lastBackup.id, c.runId);
    assert.equal(tenants[0]!.lastBackup.status, 'partial');
    assert.equal(tenants[0]!.lastBackup.totals.failed, 1);
    const runs = (await call('admin', '/api/runs?tenant=contoso')).body.runs as { id: string }[];
    assert.deepEqual(runs.map((r) => r.id), [c.runId]);
    const report = (await call('operator', `/api/backups/${c.runId}`)).body.report as { failures: { id: string; reason: string }[] }[];
    const failures = report.flatMap((r) => r.failures);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.id, c.failed.id);
    assert.match(failures[0]!.reason, c.failed.reason);
  });

  test('GET /api/snapshots: a self-service caller sees their own user only (403 for another user or all)', async () => {
    await matrix('/api/snapshots?tenant=contoso', { admin: 200, operator: 200, self: 403, none: 403, anonymous: 401 });
    const own = await call('self', `/api/snapshots?tenant=contoso&user=${encodeURIComponent(c.users.self.username)}`);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.ok((own.body.snapshots as unknown[]).length > 0);
    const other = [...c.contoso.tenant.users.values()].map((u) => u.user.userPrincipalName).find((u) => u !== c.users.self.username)!;
    assert.equal((await call('self', `/api/snapshots?tenant=contoso&user=${encodeURIComponent(other)}`)).status, 403);
  });

  test('state-changing calls: roles first, then the CSRF header for a cookie session', async () => {
    // A tenant that does not exist: an authorised caller gets past the role check to a 404, and nothing starts.
    await matrix('/api/backups', { admin: 404, operator: 404, self: 403, none: 403, anonymous: 401 }, { method: 'POST', body: { tenant: 'nosuch' } });
    await matrix('/api/restores', { admin: 400, operator: 400, self: 403, none: 403, anonymous: 401 }, { method: 'POST', body: {} });
    await matrix('/api/change-password', { admin: 400, operator: 403, self: 403, none: 403, anonymous: 401 }, { method: 'POST', body: {} });
    const noCsrf = await call('admin', '/api/backups', { method: 'POST', body: { tenant: 'nosuch' }, csrf: false });
    assert.equal(noCsrf.status, 403);
    assert.match((noCsrf.body.error as { message: string }).message, /X-CSRF-Token/);
    const wrong = await fetch(`${c.host.origin}/api/backups`, { method: 'POST', headers: { cookie: sessions.get('admin')!.cookie, 'x-csrf-token': randomBytes(24).toString('base64url') }, body: '{"tenant":"nosuch"}' });
    assert.equal(wrong.status, 403);
  });

  test('a forged X-MS-CLIENT-PRINCIPAL is stripped: only the sign-in makes one', async () => {
    const forged = Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'roles', val: 'Backup.Admin' }, { typ: 'name', val: 'mallory' }] })).toString('base64');
    const anon = await fetch(`${c.host.origin}/api/tenants`, { headers: { 'x-ms-client-principal': forged } });
    assert.equal(anon.status, 401);
    const asNone = await fetch(`${c.host.origin}/api/tenants`, { headers: { 'x-ms-client-principal': forged, cookie: sessions.get('none')!.cookie } });
    assert.equal(asNone.status, 403);
  });

  test('sign-in: wrong password, unregistered redirect URI, missing PKCE, replayed code and wrong verifier are refused; logout ends the session', async () => {
    const base = `${c.suite.sim.origin}/${c.contoso.tenant.tenantId}/oauth2/v2.0`;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirect = `${c.host.origin}/.auth/login/aad/callback`;
    const params = { client_id: CONSOLE_CLIENT_ID, response_type: 'code', redirect_uri: redirect, scope: 'openid', state: 's', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256' };
    const post = (p: Record<string, string>) => simFetch(c.suite, `${base}/authorize`, { method: 'POST', body: new URLSearchParams(p) });
    const wrongPw = await post({ ...params, username: c.users.admin.username, password: 'nope' });
    assert.equal(wrongPw.status, 401);
    assert.match(await wrongPw.text(), /AADSTS50126/);
    assert.equal((await post({ ...params, redirect_uri: 'https://evil.example/cb', username: c.users.admin.username, password: c.users.admin.password })).status, 400);
    const noPkce = await post({ ...params, code_challenge: '', username: c.users.admin.username, password: c.users.admin.password });
    assert.match(noPkce.headers.get('location') ?? '', /error=invalid_request/);
    const ok = await post({ ...params, username: c.users.admin.username, password: c.users.admin.password });
    const code = new URL(ok.headers.get('location')!).searchParams.get('code')!;
    const redeem = (v: string) => simFetch(c.suite, `${base}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CONSOLE_CLIENT_ID, code, redirect_uri: redirect, code_verifier: v }) });
    assert.equal((await redeem('x'.repeat(43))).status, 400, 'a wrong verifier is refused (and the code is spent)');
    assert.equal((await redeem(verifier)).status, 400, 'a code works once');
    // A callback whose state was not started in this browser is refused.
    assert.equal((await fetch(`${c.host.origin}/.auth/login/aad/callback?code=x&state=y`)).status, 400);
    // Logout ends the session on the server, not just in the browser.
    const s = await signIn(c.suite, c.host.origin, c.users.operator);
    assert.equal((await fetch(`${c.host.origin}/api/me`, { headers: { cookie: s.cookie } })).status, 200);
    await fetch(`${c.host.origin}/.auth/logout`, { headers: { cookie: s.cookie }, redirect: 'manual' });
    assert.equal((await fetch(`${c.host.origin}/api/me`, { headers: { cookie: s.cookie } })).status, 401);
  });

  test('the console is served with a strict CSP, nosniff and no framing; only its own files', async () => {
    const page = await fetch(`${c.host.origin}/api/console/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const html = await page.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from another origin');
    const js = await fetch(`${c.host.origin}/api/console/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /text\/javascript/);
    assert.equal((await fetch(`${c.host.origin}/api/console/../../host.json`)).status, 404);
    assert.equal((await fetch(`${c.host.origin}/api/console/secret.txt`)).status, 404);
    assert.equal((await fetch(`${c.host.origin}/api/console`, { redirect: 'manual' })).status, 301);
  });
});
