import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import { getJson, startFunctionsHost, type FunctionsHostProcess } from './support/functionsHost';
import type { SimUserData } from '../simulator/tenant/model';
import { ArchiveTierBlobStore } from '../shared/storage';
import { SiteEditor, type SimSite } from '../simulator/tenant/sites';

const SHAPE = { users: 3, filesPerUser: 5, maxFileBytes: 300_000, messagesPerUser: 12, eventsPerUser: 2, contactsPerUser: 3, withoutMailbox: [2], withoutDrive: [] };
const ROLES = ['User.Read.All', 'Files.Read.All', 'Sites.Read.All', 'Mail.Read', 'Calendars.Read', 'Contacts.Read', 'Files.ReadWrite.All', 'Sites.ReadWrite.All', 'Mail.ReadWrite', 'Mail-Advanced.ReadWrite.All', 'Calendars.ReadWrite', 'Contacts.ReadWrite'];

const fileSet = (t: SuiteTenant, u: SimUserData) =>
  [...u.drive.values()].filter((i) => !i.folder && i.parentId).map((i) => `${t.editor.drivePath(u.user.id, i.id)}|${i.content?.toString('base64') ?? ''}|${i.modified}`).sort();
const mailSet = (t: SuiteTenant, u: SimUserData) => [...u.mailbox.messages.values()].map((m) => `${t.editor.mailFolderPath(u.user.id, m.folderId)}|${m.mime.toString('base64')}|${m.isDraft ?? false}`).sort();

describe('restore into Microsoft 365 through the HTTP API on the local Durable host', () => {
  let suite: M365Suite;
  let t: SuiteTenant;
  let a: SimUserData;
  let host: FunctionsHostProcess;
  let stateDir: string;
  let files: string[];
  let mail: string[];
  let site: SimSite;
  let siteFiles: () => string[];
  let libraryFiles: string[];

  before(async () => {
    suite = await startM365Suite([{ name: 'contoso', seed: 9, shape: SHAPE }]);
    t = suite.tenants.get('contoso')!;
    t.tenant.apps[0]!.roles = ROLES; // one app for both (no restore app registered: restores use the tenant's own)
    a = [...t.tenant.users.values()][0]!;
    const sites = new SiteEditor(t.tenant);
    site = sites.addSite({ name: 'vertrieb', displayName: 'Vertrieb' });
    sites.addFile(sites.library(site), 'Angebote/Übersicht ✓.txt', Buffer.from('Angebote 2026\n'), '2025-06-07T08:09:10.000Z');
    sites.addFile(sites.library(site), 'Angebote/Kunde A/angebot.bin', Buffer.alloc(300_000, 7), '2025-06-07T08:09:11.000Z');
    siteFiles = () => [...sites.library(site).drive.values()].filter((i) => !i.folder).map((i) => `${i.name}|${i.content?.toString('base64') ?? ''}|${i.modified}`).sort();
    assert.equal((await suite.addTenant('contoso')).code, 0);
    const b = await suite.cli(['backup', '--tenant', 'contoso'], t.password);
    assert.equal(b.code, 0, b.stderr);
    files = fileSet(t, a);
    mail = mailSet(t, a);
    libraryFiles = siteFiles();
    stateDir = join(suite.work, 'durable');
    host = await startFunctionsHost(suite.processEnv({ RESTORE_POLL_SECONDS: '1' }), stateDir);
  });
  after(async () => {
    await host?.stop().catch(() => undefined);
    await suite?.stop();
  });

  const post = (body: Record<string, unknown>) => getJson(`${host.origin}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: 'contoso', password: t.password, ...body }) });
  const messageOf = (r: { body: Record<string, unknown> }) => String((r.body.error as { message?: string } | undefined)?.message);

  test('bad input answers 4xx with one sentence and starts nothing', async () => {
    const started = readdirSync(stateDir).length;
    const upn = a.user.userPrincipalName;
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ user: upn, destination: { kind: 'elsewhere' } }, 400, /"destination" must be/],
      [{ user: upn, destination: { kind: 'user' } }, 400, /names the user/],
      [{ user: upn, destination: { kind: 'user', user: 'nobody@contoso.example' } }, 404, /has no user "nobody@contoso\.example"/],
      [{ user: upn, destination: { kind: 'user', user: [...t.tenant.users.values()][2]!.user.userPrincipalName }, services: ['mail'] }, 400, /has no mailbox/],
      [{ user: upn, destination: { kind: 'in-place' }, path: 'Inbox/../x' }, 400, /is not a folder path/],
      [{ user: upn, destination: { kind: 'in-place' }, conflict: 'merge' }, 400, /skip, rename, replace/],
      [{ user: upn, path: 'Inbox' }, 400, /go with a destination/],
      [{ site: 'vertrieb' }, 400, /"site" goes with a destination of kind "in-place"/],
      [{ site: 'vertrieb', user: upn, destination: { kind: 'in-place' } }, 400, /restores one site/],
      [{ site: 'nowhere', destination: { kind: 'in-place' } }, 404, /no backed-up site "nowhere"/],
      [{ site: 'vertrieb', destination: { kind: 'in-place' }, services: ['teams'] }, 400, /cannot be restored into Microsoft 365/],
    ];
    for (const [body, status, message] of cases) {
      const r = await post(body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.match(messageOf(r), message);
    }
    t.tenant.apps[0]!.roles = ROLES.filter((r) => r !== 'Contacts.ReadWrite');
    try {
      const r = await post({ user: upn, destination: { kind: 'in-place' }, services: ['contacts'] });
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.match(messageOf(r), /Contacts\.ReadWrite/);
    } finally {
      t.tenant.apps[0]!.roles = ROLES;
    }
    assert.equal(readdirSync(stateDir).length, started, 'no bad request started a restore');
  });

  test('a disaster, an in-place restore through POST /api/restores with the host killed mid-way: all back, no duplicate, per-user report', async () => {
    const upn = a.user.userPrincipalName;
    for (const i of [...a.drive.values()].filter((i) => !i.folder && i.parentId)) if (a.drive.has(i.id)) t.editor.deleteDriveItem(upn, t.editor.drivePath(a.user.id, i.id));
    for (const m of [...a.mailbox.messages.values()]) t.editor.deleteMessage(upn, m.id);
    suite.sim.resetStats();
    suite.sim.setLatency(40);
    const start = await post({ user: upn, destination: { kind: 'in-place' }, services: ['onedrive', 'mail'] });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const id = String(start.body.id);
    for (let i = 0; i < 600 && (suite.sim.stats.requests.get('mail.importMime') ?? 0) < 3; i++) await new Promise((r) => setTimeout(r, 20));
    await host.kill();
    const importedBeforeKill = suite.sim.stats.requests.get('mail.importMime') ?? 0;
    assert.ok(importedBeforeKill >= 3 && importedBeforeKill < mail.length, `the host was killed mid-restore (${importedBeforeKill} of ${mail.length} messages imported)`);
    suite.sim.setLatency(0);
    host = await startFunctionsHost(suite.processEnv({ RESTORE_POLL_SECONDS: '1' }), stateDir);
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 1200; i++) {
      status = (await getJson(`${host.origin}/api/restores/${id}`)).body;
      if (status.runtimeStatus === 'Completed' || status.runtimeStatus === 'Failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status));
    assert.deepEqual(status.destination, { kind: 'in-place' });
    const counts = status.counts as { restored: number; failed: number };
    assert.ok(counts.restored > 0 && counts.failed === 0, JSON.stringify(counts));
    const parts = status.parts as { user: string; service: string; restored: number }[];
    assert.deepEqual(parts.map((p) => `${p.user} ${p.service}`).sort(), [`${upn} mail`, `${upn} onedrive`]);
    assert.deepEqual(status.failures, []);
    assert.deepEqual(fileSet(t, a), files, 'every file back, byte-identical, same modification time, once');
    assert.deepEqual(mailSet(t, a), mail, 'every message back with its MIME, not a draft, once');
  });

  test('a site in place through POST /api/restores {site, destination in-place}: its library files back, once', async () => {
    new SiteEditor(t.tenant).deleteItem(new SiteEditor(t.tenant).library(site), 'Angebote');
    assert.notDeepEqual(siteFiles(), libraryFiles);
    const start = await post({ site: site.webUrl, destination: { kind: 'in-place' } });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 1200; i++) {
      status = (await getJson(`${host.origin}/api/restores/${String(start.body.id)}`)).body;
      if (status.runtimeStatus === 'Completed' || status.runtimeStatus === 'Failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status));
    assert.equal(status.site, site.webUrl);
    assert.deepEqual((status.parts as { service: string }[]).map((p) => p.service), ['sharepoint']);
    assert.deepEqual(status.failures, []);
    assert.deepEqual(siteFiles(), libraryFiles, 'every library file back, byte-identical, same modification time, once');
  });

  test('from a point in time with the packs archived: rehydration first (durable-timer polls), then the restore', async () => {
    await host.stop();
    const archive = new ArchiveTierBlobStore(suite.storage.blobs);
    const packContainer = 'm365backupcontoso-packs';
    for await (const b of archive.list(packContainer)) await archive.setTier(packContainer, b.name, 'Archive');
    host = await startFunctionsHost(suite.processEnv({ M365_BACKUP_EMULATE_ARCHIVE: '3600', RESTORE_POLL_SECONDS: '1' }), stateDir);
    const upn = a.user.userPrincipalName;
    for (const m of [...a.mailbox.messages.values()]) t.editor.deleteMessage(upn, m.id);
    const start = await post({ user: upn, destination: { kind: 'in-place' }, services: ['mail'], at: new Date().toISOString() });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const id = String(start.body.id);
    const phases = new Set<string>();
    let rehydrated = false;
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 1500; i++) {
      status = (await getJson(`${host.origin}/api/restores/${id}`)).body;
      const progress = status.progress as { phase?: string; poll?: number } | null;
      phases.add(String(progress?.phase));
      if (!rehydrated && (progress?.poll ?? 0) >= 2) rehydrated = (await archive.completeRehydrations(packContainer)) > 0;
      if (status.runtimeStatus === 'Completed' || status.runtimeStatus === 'Failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status));
    assert.ok(phases.has('rehydrating') && rehydrated, `rehydration came first (${[...phases].join(', ')})`);
    assert.deepEqual(mailSet(t, a), mail, 'every message back after rehydration');
  });
});
