import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { assertRestoreMatches, snapshotExpectation, startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import { getJson, startFunctionsHost, waitForInstance, type FunctionsHostProcess } from './support/functionsHost';
import { unzipBuffer as unzipTo } from '../cli/unzip';
import { ArchiveTierBlobStore } from '../shared/storage';

const SHAPE = { users: 20, filesPerUser: 3, maxFileBytes: 300_000, messagesPerUser: 4, eventsPerUser: 2, contactsPerUser: 2, withoutMailbox: [7], withoutDrive: [8] };

describe('the Functions app on the local Durable host (timer, orchestrations, activities, HTTP API)', () => {
  let suite: M365Suite;
  let contoso: SuiteTenant;
  let host: FunctionsHostProcess;
  let stateDir: string;
  const hostEnv = () => suite.processEnv({ BACKUP_USER_PARALLELISM: '4' });

  before(async () => {
    suite = await startM365Suite([{ name: 'contoso', seed: 5, shape: SHAPE }]);
    contoso = suite.tenants.get('contoso')!;
    assert.equal((await suite.addTenant('contoso')).code, 0);
    stateDir = join(suite.work, 'durable');
  });
  after(async () => {
    await host?.stop().catch(() => undefined);
    await suite?.stop();
  });

  test('the nightly timer backs up a 20-user tenant with bounded parallelism, once per night', async () => {
    host = await startFunctionsHost(hostEnv(), stateDir);
    const fire = await fetch(`${host.origin}/admin/functions/nightlyBackup`, { method: 'POST' });
    assert.equal(fire.status, 202);
    const id = `nightly-contoso-${new Date().toISOString().slice(0, 10)}`;
    const done = await waitForInstance(host.origin, id);
    assert.equal(done.runtimeStatus, 'Completed', JSON.stringify(done));
    const output = done.output as { status: string; totals: { users: number; fetched: number } };
    assert.equal(output.status, 'complete');
    assert.equal(output.totals.users, 20);
    assert.equal((done.customStatus as { usersDone: number }).usersDone, 20);
    // A second firing the same night starts nothing new.
    const instances = readdirSync(stateDir).length;
    const users = readdirSync(stateDir).filter((f) => /:u\d+\.json$/.test(decodeURIComponent(f)));
    assert.equal(users.length, 20, 'one sub-orchestration per user (besides the ranges and lanes)');
    assert.equal((await fetch(`${host.origin}/admin/functions/nightlyBackup`, { method: 'POST' })).status, 202);
    assert.equal(readdirSync(stateDir).length, instances);
    // The run's report is readable through the API.
    const run = await getJson(`${host.origin}/api/backups/${id}`);
    assert.equal(run.status, 200);
    assert.equal((run.body.report as unknown[]).length, 20 * 4 - 3 - 1, "one row per user and service (one user has no mailbox, one no drive)");
    const target = join(suite.work, 'restore-nightly');
    assert.equal((await suite.cli(['restore', '--tenant', 'contoso', target], contoso.password)).code, 0);
    assertRestoreMatches(target, snapshotExpectation(contoso));
  });

  test('an activity that throws and a host killed mid-run both end in a completed backup with nothing lost', async () => {
    await host.stop();
    for (const u of [...contoso.tenant.users.values()].slice(0, 10))
      if (u.user.hasDrive) contoso.editor.addFile(u.user.userPrincipalName, `after/${u.user.id}.txt`, Buffer.from(`new for ${u.user.id}`));
    host = await startFunctionsHost(suite.processEnv({ BACKUP_USER_PARALLELISM: '2', M365_LOCAL_HOST_FAIL_ONCE: 'backupUserService' }), stateDir);
    const start = await getJson(`${host.origin}/api/backups`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso' }) });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const id = (start.body.backups as { id: string }[])[0]!.id;
    // Let it get going, then crash the host.
    for (let i = 0; i < 200; i++) {
      const s = await getJson(`${host.origin}/runtime/webhooks/durabletask/instances/${id}`);
      if (((s.body.customStatus as { usersDone?: number } | null)?.usersDone ?? 0) >= 4) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await host.kill();
    host = await startFunctionsHost(hostEnv(), stateDir);
    assert.match(host.output.join(''), /resumed \d+ orchestration/);
    const done = await waitForInstance(host.origin, id);
    assert.equal(done.runtimeStatus, 'Completed', JSON.stringify(done));
    const target = join(suite.work, 'restore-restart');
    assert.equal((await suite.cli(['restore', '--tenant', 'contoso', target], contoso.password)).code, 0);
    assertRestoreMatches(target, snapshotExpectation(contoso));
  });

  test('work units: with a zero time budget each service runs as many committed units, and nothing is lost', async () => {
    await host.stop();
    for (const u of [...contoso.tenant.users.values()].slice(10, 14)) {
      const upn = u.user.userPrincipalName;
      if (u.user.hasMailbox) {
        contoso.editor.addMessage(upn, 'Inbox', { subject: 'unit one', from: { name: 'a', address: 'a@p.example' }, to: [], text: '1', received: new Date().toISOString() });
        contoso.editor.addMessage(upn, 'Sent Items', { subject: 'unit two', from: { name: 'b', address: 'b@p.example' }, to: [], text: '2', received: new Date().toISOString() });
        contoso.editor.addMessage(upn, 'Archive', { subject: 'unit three', from: { name: 'c', address: 'c@p.example' }, to: [], text: '3', received: new Date().toISOString() });
      }
    }
    host = await startFunctionsHost(suite.processEnv({ BACKUP_UNIT_SECONDS: '0' }), stateDir);
    const start = await getJson(`${host.origin}/api/backups`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', services: ['mail'] }) });
    assert.equal(start.status, 202);
    const id = (start.body.backups as { id: string }[])[0]!.id;
    const done = await waitForInstance(host.origin, id);
    assert.equal(done.runtimeStatus, 'Completed', JSON.stringify(done));
    const report = (await getJson(`${host.origin}/api/backups/${id}`)).body.report as { userPrincipalName: string; units: number; fetched: number }[];
    const changed = report.filter((r) => r.fetched > 0);
    assert.ok(changed.length >= 3, JSON.stringify(report.slice(0, 3)));
    for (const r of changed) assert.ok(r.units >= 3, `${r.userPrincipalName} took ${r.units} units for three changed folders`);
    const target = join(suite.work, 'restore-units');
    assert.equal((await suite.cli(['restore', '--tenant', 'contoso', target], contoso.password)).code, 0);
    assertRestoreMatches(target, snapshotExpectation(contoso));
  });

  test('HTTP bad input: malformed JSON, unknown tenant, unknown service or run give a 4xx JSON error and start nothing', async () => {
    const before = readdirSync(stateDir).length;
    const cases: [RequestInit & { path: string }, number, RegExp][] = [
      [{ path: '/api/backups', method: 'POST', body: '{not json' }, 400, /not valid JSON/],
      [{ path: '/api/backups', method: 'POST', body: '[1,2]' }, 400, /JSON object/],
      [{ path: '/api/backups', method: 'POST', body: JSON.stringify({ tenant: 'nosuch' }) }, 404, /Unknown tenant "nosuch"/],
      [{ path: '/api/backups', method: 'POST', body: JSON.stringify({ tenant: 'contoso', services: ['yammer'] }) }, 400, /Unknown service "yammer"/],
      [{ path: '/api/backups', method: 'POST', body: JSON.stringify({ user: 'a@b.c' }) }, 400, /"user" needs "tenant"/],
      [{ path: '/api/backups/nope', method: 'GET' }, 404, /No backup run "nope"/],
      [{ path: '/api/snapshots', method: 'GET' }, 400, /"tenant" query parameter is required/],
      [{ path: '/api/snapshots?tenant=ghost', method: 'GET' }, 404, /Unknown tenant "ghost"/],
    ];
    for (const [req, status, message] of cases) {
      const r = await getJson(`${host.origin}${req.path}`, req);
      assert.equal(r.status, status, `${req.method} ${req.path}: ${JSON.stringify(r.body)}`);
      assert.match(String((r.body.error as { message: string }).message), message);
    }
    assert.equal(readdirSync(stateDir).length, before, 'no orchestration was started');
    const snaps = await getJson(`${host.origin}/api/snapshots?tenant=contoso&service=mail`);
    assert.equal(snaps.status, 200);
    assert.ok((snaps.body.snapshots as unknown[]).length >= 19);
  });

  test('a restore through the HTTP API waits through durable-timer polls while packs are "archived", then serves a zip matching the tenant', async () => {
    await host.stop();
    // The Archive-tier emulator (state in Azurite, shared with the host): the packs already written
    // go to Archive now, as the lifecycle rule would move them. Rehydration would take an hour; the
    // test ends it (completeRehydrations) once the orchestration has polled three times.
    const archive = new ArchiveTierBlobStore(suite.storage.blobs);
    const packContainer = 'm365backupcontoso-packs';
    let archivedPacks = 0;
    for await (const b of archive.list(packContainer)) {
      await archive.setTier(packContainer, b.name, 'Archive');
      archivedPacks++;
    }
    assert.ok(archivedPacks > 0);
    host = await startFunctionsHost(suite.processEnv({ M365_BACKUP_EMULATE_ARCHIVE: '3600', RESTORE_POLL_SECONDS: '1' }), stateDir);
    const filesBefore = readdirSync(stateDir).length;
    const wrong = await getJson(`${host.origin}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', password: 'not-the-password' }) });
    assert.equal(wrong.status, 401, JSON.stringify(wrong.body));
    assert.equal(readdirSync(stateDir).length, filesBefore, 'a wrong password starts nothing');
    const missing = await getJson(`${host.origin}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso' }) });
    assert.equal(missing.status, 400);
    assert.match(String((missing.body.error as { message: string }).message), /"password" is required/);
    const tooEarly = await getJson(`${host.origin}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', password: contoso.password, at: '2001-01-01T00:00:00Z' }) });
    assert.equal(tooEarly.status, 404, JSON.stringify(tooEarly.body));
    assert.match(String((tooEarly.body.error as { message: string }).message), /Nothing of tenant "contoso" was backed up at or before 2001-01-01/);
    const unknownTenant = await getJson(`${host.origin}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'ghost', password: 'x' }) });
    assert.equal(unknownTenant.status, 404);
    assert.equal(readdirSync(stateDir).length, filesBefore, 'no bad request started anything');

    const start = await getJson(`${host.origin}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', password: contoso.password }) });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const id = String(start.body.id);
    const phases = new Set<string>();
    let rehydrated = false;
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 1500; i++) {
      status = (await getJson(`${host.origin}/api/restores/${id}`)).body;
      const progress = status.progress as { phase?: string; poll?: number } | null;
      phases.add(String(progress?.phase));
      if (!rehydrated && (progress?.poll ?? 0) >= 3) rehydrated = (await archive.completeRehydrations(packContainer)) > 0;
      if (status.runtimeStatus === 'Completed' || status.runtimeStatus === 'Failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status));
    assert.ok(phases.has('rehydrating'), `the restore waited for rehydration (${[...phases].join(', ')})`);
    assert.ok(rehydrated, 'the host had started rehydrating the packs the restore needs');
    const timers = readFileSync(join(stateDir, `${id}.json`), 'utf8').match(/"EventType":10,/g) ?? [];
    assert.ok(timers.length >= 3, `durable timers polled (${timers.length})`);
    // The host rehydrated what the restore needed; the test process sees it (the emulator state is shared).
    const tiers = new Set<string>();
    for await (const b of archive.list(packContainer)) tiers.add(`${b.tier}${b.archiveStatus ? ` ${b.archiveStatus}` : ''}`);
    assert.ok(tiers.has('Cool') && [...tiers].every((t) => t === 'Cool' || t === 'Archive'), [...tiers].join(', '));
    const zip = await fetch(String(status.downloadUrl));
    assert.equal(zip.status, 200);
    const target = join(suite.work, 'restore-zip');
    const n = await unzipTo(Buffer.from(await zip.arrayBuffer()), target);
    assert.ok(n > 100);
    assertRestoreMatches(target, snapshotExpectation(contoso));
    // The session row is gone when the restore ends.
    const sessions = [];
    for await (const r of suite.storage.tables.query('m365backupcontososnapshots', { filter: "PartitionKey eq 'restore-session'" })) sessions.push(r);
    assert.equal(sessions.length, 0);
  });

  test('change-password through the API: 401 for a wrong old password, 204 otherwise', async () => {
    const wrong = await getJson(`${host.origin}/api/change-password`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', oldPassword: 'nope-nope', newPassword: 'a-new-password-1' }) });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${host.origin}/api/change-password`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', oldPassword: contoso.password, newPassword: `${contoso.password}-2` }) });
    assert.equal(ok.status, 204);
    contoso.password = `${contoso.password}-2`;
    const ls = await suite.cli(['snapshots', '--tenant', 'contoso', '--service', 'mail'], contoso.password);
    assert.equal(ls.code, 0);
    const restore = await suite.cli(['restore', '--tenant', 'contoso', '--service', 'contacts', join(suite.work, 'after-change')], contoso.password);
    assert.equal(restore.code, 0, restore.stderr);
  });

  test('no password, key, client secret or token is in any Durable history, instance state or host log', async () => {
    const needles = [contoso.secret, contoso.password, contoso.password.replace(/-2$/, ''), ...suite.sim.identity.issuedTokens()];
    const haystack = [host.output.join(''), ...readdirSync(stateDir).map((f) => readFileSync(join(stateDir, f), 'utf8'))].join('\n');
    assert.ok(haystack.includes('backupUserService'), 'the scan read real histories');
    for (const n of needles) assert.ok(!haystack.includes(n), `a secret (${n.slice(0, 6)}…) leaked into Durable state`);
  });
});
