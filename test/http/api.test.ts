import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCliSuite, type CliSuite } from '../support/suite';
import { cliEnvironment, runCli } from '../support/cli';
import { getJson, startFunctionsHost, type FunctionsHostProcess } from '../support/functionsHost';
import { AppServices } from '../../shared/app/services';
import { loadSettings } from '../../shared/config';
import { macValid } from '../../shared/repo';
import { PASSWORD_THROTTLE_PK, PASSWORD_THROTTLE_RK, readPasswordThrottle } from '../../shared/repo/passwordThrottle';

const PASSWORD = 'the right tenant password';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The HTTP API's edges on two local Functions hosts sharing one Azurite: validation (400/413, never
 * a 500 or an internal table name) and the per-tenant password throttle (401, then 429 with
 * Retry-After, shared through storage by both hosts; the right password after the wait works).
 */
describe('HTTP API: validation and password throttling', () => {
  let suite: CliSuite;
  let a: FunctionsHostProcess;
  let b: FunctionsHostProcess;
  const env = () => cliEnvironment(suite.env);

  before(async () => {
    suite = await startCliSuite('http', PASSWORD);
    const secret = join(suite.work, 'secret.txt');
    writeFileSync(secret, 'an-unused-client-secret');
    for (const name of ['contoso', 'fabrikam']) {
      const add = await runCli(['tenant', 'add', '--name', name, '--tenant-id', '00000000-0000-0000-0000-000000000001', '--client-id', '00000000-0000-0000-0000-000000000002', '--client-secret-file', secret, '--skip-check'], suite.env);
      assert.equal(add.code, 0, add.stderr);
    }
    a = await startFunctionsHost(env(), join(suite.work, 'durable-a'));
    b = await startFunctionsHost(env(), join(suite.work, 'durable-b'));
  });
  after(async () => {
    await a?.stop().catch(() => undefined);
    await b?.stop().catch(() => undefined);
    await suite?.stop();
  });

  const post = (host: FunctionsHostProcess, path: string, body: unknown) => getJson(`${host.origin}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  const message = (r: { body: Record<string, unknown> }) => String((r.body.error as { message?: string } | undefined)?.message);

  test('bad names, oversized bodies, unknown fields and parameters get a 4xx JSON error naming the problem', async () => {
    const cases: [Promise<{ status: number; body: Record<string, unknown> }>, number, RegExp][] = [
      [post(a, '/api/backups', { tenant: '../' }), 400, /Tenant name "\.\.\/" is not valid/],
      [post(a, '/api/backups', { tenant: 'Contoso' }), 400, /Tenant name "Contoso" is not valid/],
      [getJson(`${a.origin}/api/snapshots?tenant=..%2F`), 400, /Tenant name "\.\.\/" is not valid/],
      [getJson(`${a.origin}/api/snapshots?tenant=contoso%27%20or%20true`), 400, /Tenant name .* is not valid/],
      [post(a, '/api/restores', { tenant: '../x', password: 'p' }), 400, /Tenant name "\.\.\/x" is not valid/],
      [post(a, '/api/change-password', { tenant: 'a/b', oldPassword: 'p', newPassword: 'long enough' }), 400, /Tenant name "a\/b" is not valid/],
      [post(a, '/api/backups', { tenant: 'contoso', user: '../../etc' }), 400, /User "\.\.\/\.\.\/etc" is not valid: give a user principal name/],
      [post(a, '/api/backups', { tenant: 'contoso', user: 'not a user' }), 400, /User "not a user" is not valid/],
      [getJson(`${a.origin}/api/snapshots?tenant=contoso&user=`), 400, /User "" is not valid/],
      [getJson(`${a.origin}/api/snapshots?tenant=contoso&service=yammer`), 400, /Unknown service "yammer"/],
      [post(a, '/api/backups', { tenant: 'contoso', services: ['onedrive', 'yammer'] }), 400, /Unknown service "yammer"/],
      // A restore body posted to /api/backups is refused, not read as "back up contoso".
      [post(a, '/api/backups', { tenant: 'contoso', password: PASSWORD }), 400, /Unknown field "password" in the request body/],
      [post(a, '/api/restores', { tenant: 'contoso', password: PASSWORD, target: '/tmp' }), 400, /Unknown field "target"/],
      [getJson(`${a.origin}/api/snapshots?tenant=contoso&folder=x`), 400, /Unknown query parameter "folder"/],
      [post(a, '/api/backups', JSON.stringify({ tenant: 'contoso', pad: 'x'.repeat(100 * 1024) })), 413, /larger than 64 KiB/],
      [post(a, '/api/restores', `{"tenant":"contoso","password":"${'y'.repeat(10 * 1024 * 1024)}"}`), 413, /larger than 64 KiB/],
      [getJson(`${a.origin}/api/backups/..%2F..%2Fx`), 400, /not an id this API hands out/],
      [getJson(`${a.origin}/api/restores/a%20b`), 400, /not an id this API hands out/],
    ];
    for (const [request, status, pattern] of cases) {
      const r = await request;
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal((r.body.error as { code: string }).code, status === 413 ? 'PAYLOAD_TOO_LARGE' : 'USAGE');
      assert.match(message(r), pattern);
      assert.doesNotMatch(message(r), /m365backup\w*(tenants|config|snapshots)/, 'no internal table name');
    }
    // A valid UPN or object id passes validation and is looked up (a 404 naming the user, not a 400).
    for (const user of ['00000000-0000-0000-0000-0000000000aa', 'adele.vance@contoso.example', 'guest_fabrikam.com%23EXT%23@contoso.onmicrosoft.com']) {
      const snaps = await getJson(`${a.origin}/api/snapshots?tenant=contoso&user=${user}`);
      assert.equal(snaps.status, 404, JSON.stringify(snaps.body));
      assert.match(message(snaps), /has no backed-up user/);
    }
  });

  test('wrong passwords: 401, then 429 with Retry-After on every host without checking; after the wait the right password works and resets the count', async () => {
    const restore = (host: FunctionsHostProcess, password: string) => post(host, '/api/restores', { tenant: 'contoso', password });
    for (let i = 1; i <= 5; i++) {
      const r = await restore(i % 2 ? a : b, `wrong password ${i}`);
      assert.equal(r.status, 401, JSON.stringify(r.body));
      assert.equal((r.body.error as { code: string }).code, 'WRONG_PASSWORD');
      // From the third failure on, each says how long the next attempt waits (1 s, 2 s, 4 s) and the client waits it.
      const wait = i >= 3 ? 2 ** (i - 3) : 0;
      if (wait) {
        assert.match(message(r), new RegExp(`the next attempt is accepted in ${wait} s`));
        if (i < 5) await sleep(wait * 1000 + 50);
      }
    }
    // Within the 4-second wait both instances refuse at once, even the right password.
    for (const host of [a, b]) {
      const res = await fetch(`${host.origin}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', password: PASSWORD }) });
      assert.equal(res.status, 429);
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${res.headers.get('retry-after')}`);
      const body = (await res.json()) as { error: { code: string; message: string; retryAfterSeconds: number } };
      assert.equal(body.error.code, 'THROTTLED');
      assert.equal(body.error.retryAfterSeconds, retryAfter);
      assert.match(body.error.message, /Too many wrong passwords in a row/);
    }
    // The count lives in the tenant repository's config table, MACed like every other row.
    const services = new AppServices(loadSettings(env()));
    const { repo } = await services.tenant('contoso');
    const state = await readPasswordThrottle(repo);
    assert.equal(state.failures, 5);
    assert.equal(state.altered, false);
    assert.ok(state.until && state.until.getTime() > Date.now() - 60_000);
    const row = await suite.storage.tables.get(`${repo.layout.name}config`, PASSWORD_THROTTLE_PK, PASSWORD_THROTTLE_RK);
    assert.ok(row && macValid(repo.keys.macKey, `${repo.layout.name}config`, row));
    // Another tenant is not affected.
    assert.equal((await post(b, '/api/restores', { tenant: 'fabrikam', password: 'wrong for fabrikam' })).status, 401);

    // Wait as told, then the right password is checked (nothing was backed up yet: a 404, not a 401 or 429).
    await sleep(Math.ceil(state.until!.getTime() - Date.now()) + 50);
    const ok = await restore(b, PASSWORD);
    assert.equal(ok.status, 404, JSON.stringify(ok.body));
    assert.match(message(ok), /Tenant "contoso" has no backups yet/);
    assert.equal((await readPasswordThrottle(repo)).failures, 0, 'the right password reset the count');
    assert.equal((await restore(a, 'wrong again')).status, 401, 'after a reset, a wrong password is a 401 again');
  });

  test('change-password is throttled by the same count; the delay doubles; the right old password after the wait changes it', async () => {
    const change = (host: FunctionsHostProcess, oldPassword: string, newPassword = 'a brand new password') => post(host, '/api/change-password', { tenant: 'fabrikam', oldPassword, newPassword });
    // fabrikam has one failure from the previous test: two more start the wait.
    assert.equal((await change(a, 'wrong 2')).status, 401);
    const third = await change(b, 'wrong 3');
    assert.equal(third.status, 401);
    assert.match(message(third), /the next attempt is accepted in 1 s/);
    await sleep(1050);
    // A fourth wrong password doubles the wait; within it the right password is refused unchecked.
    const fourth = await change(b, 'wrong 4');
    assert.equal(fourth.status, 401);
    assert.match(message(fourth), /accepted in 2 s/);
    const refused = await change(a, PASSWORD);
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    const res = await fetch(`${a.origin}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'fabrikam', password: PASSWORD }) });
    assert.equal(res.status, 429, 'restores and change-password share the count');
    await sleep(Number(res.headers.get('retry-after')) * 1000 + 50);
    const ok = await fetch(`${b.origin}/api/change-password`, { method: 'POST', body: JSON.stringify({ tenant: 'fabrikam', oldPassword: PASSWORD, newPassword: 'a brand new password' }) });
    assert.equal(ok.status, 204);
    assert.equal((await post(a, '/api/restores', { tenant: 'fabrikam', password: 'a brand new password' })).status, 404, 'the new password opens the key');
  });
});
