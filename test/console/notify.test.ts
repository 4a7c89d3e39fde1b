import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signIn, startConsoleSuite, type ConsoleSuite } from './consoleSuite';

/**
 * Run notifications end to end: the suite's nightly run is partial (one malformed message); with a
 * webhook set for the tenant, the notifyRuns timer posts exactly one call to a local receiver, with
 * the tenant's name, counts and the console link and nothing else — no user, item, reason or secret.
 */
describe('run notifications to a webhook (local receiver)', () => {
  let c: ConsoleSuite;
  let receiver: Server;
  let url: string;
  const calls: { headers: Record<string, unknown>; body: string }[] = [];
  let admin: { cookie: string; csrf: string };

  before(async () => {
    c = await startConsoleSuite({ apiAuth: 'entra' });
    receiver = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        calls.push({ headers: req.headers, body: Buffer.concat(parts).toString('utf8') });
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('1');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/T000/B000/secret-token-xyz`;
    admin = await signIn(c.suite, c.host.origin, c.users.admin);
  });
  after(async () => {
    receiver?.close();
    await c?.stop();
  });

  const api = (path: string, o: { method?: string; body?: unknown; who?: { cookie: string; csrf: string } } = {}) =>
    fetch(`${c.host.origin}${path}`, { method: o.method ?? 'GET', headers: { cookie: (o.who ?? admin).cookie, 'x-csrf-token': (o.who ?? admin).csrf }, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });

  test('the webhook is set by admins only, checked, and never answered back (its path is a credential)', async () => {
    assert.equal((await api('/api/tenants/contoso/webhook', { method: 'PUT', body: { url: 'http://example.com/x' } })).status, 400, 'plain HTTP off this machine');
    const operator = await signIn(c.suite, c.host.origin, c.users.operator);
    assert.equal((await api('/api/tenants/contoso/webhook', { method: 'PUT', body: { url }, who: operator })).status, 403);
    assert.equal((await fetch(`${c.host.origin}/api/tenants/contoso/webhook`)).status, 401);
    const set = await api('/api/tenants/contoso/webhook', { method: 'PUT', body: { url } });
    assert.equal(set.status, 200);
    const got = await (await api('/api/tenants/contoso/webhook')).text();
    assert.match(got, /"configured":true/);
    assert.doesNotMatch(got, /secret-token-xyz|hooks/);
  });

  test('a partial run posts one webhook call with the tenant name, counts and the console link only; a second timer run posts nothing', async () => {
    const fire = await fetch(`${c.host.origin}/admin/functions/notifyRuns`, { method: 'POST' });
    assert.equal(fire.status, 202);
    assert.equal(calls.length, 1, JSON.stringify(calls));
    assert.match(String(calls[0]!.headers['content-type']), /application\/json/);
    const body = JSON.parse(calls[0]!.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['counts', 'event', 'link', 'runId', 'tenant', 'text']);
    assert.equal(body.event, 'run-partial');
    assert.equal(body.tenant, 'contoso');
    assert.equal(body.runId, c.runId);
    assert.deepEqual(body.counts, { users: 3, items: (body.counts as { items: number }).items, failedItems: 1 });
    assert.ok((body.counts as { items: number }).items > 0);
    assert.equal(body.link, `${c.host.origin}/api/console/#/run/${c.runId}`);
    assert.match(String(body.text), /contoso/);
    // Nothing personal or secret: no address, no item id, no reason, no password or client secret.
    const users = [...c.contoso.tenant.users.values()].flatMap((u) => [u.user.userPrincipalName, u.user.displayName, u.user.id]);
    for (const s of [...users, c.failed.id, 'malformed', c.contoso.password, c.contoso.secret ?? 'no-secret'].filter(Boolean)) assert.ok(!calls[0]!.body.includes(String(s)), `the webhook body holds ${s}`);
    assert.doesNotMatch(calls[0]!.body, /@/);
    await fetch(`${c.host.origin}/admin/functions/notifyRuns`, { method: 'POST' });
    assert.equal(calls.length, 1, 'each run is notified once');
  });
});
