import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { SeededRandom } from '../shared/local';
import { assertRestoreMatches, snapshotExpectation, startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import type { TenantBackupReport } from '../shared/backup/m365/tenantBackup';

const SHAPE = { users: 5, filesPerUser: 8, maxFileBytes: 2 * 1024 * 1024, messagesPerUser: 12, eventsPerUser: 4, contactsPerUser: 4, withoutMailbox: [3], withoutDrive: [4] };

function report(stdout: string): TenantBackupReport {
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as TenantBackupReport;
}

/** Changes of every kind on every service for one user; returns what an incremental must fetch. */
function mutateEverything(t: SuiteTenant, upn: string, r: SeededRandom): { downloads: number; mime: number } {
  const e = t.editor;
  const u = t.tenant.user(upn);
  const files = [...u.drive.values()].filter((i) => !i.folder && i.parentId);
  const path = (id: string) => e.drivePath(u.user.id, id);
  const [modify, rename, move, remove] = files.map((f) => path(f.id));
  e.addFile(upn, 'Documents/new report.docx', r.bytes(300_000));
  e.modifyFile(upn, modify!, r.bytes(200_000));
  e.renameDriveItem(upn, rename!, 'renamed file.bin');
  e.moveDriveItem(upn, move!, 'Moved here');
  e.deleteDriveItem(upn, remove!);
  e.addFolder(upn, 'Brand new folder');
  e.deleteDriveItem(upn, 'Empty folder');

  const msgs = [...u.mailbox.messages.values()].filter((m) => e.mailFolderPath(u.user.id, m.folderId) === 'Inbox');
  e.addMessage(upn, 'Inbox', { subject: 'A new one ✉', from: { name: 'X', address: 'x@partner.example' }, to: [{ name: 'Me', address: upn }], text: 'new mail', received: new Date().toISOString() });
  e.updateMessage(upn, msgs[0]!.id, { isRead: true, flagStatus: 'flagged', categories: ['Red category'] });
  e.moveMessage(upn, msgs[1]!.id, 'Archive');
  e.deleteMessage(upn, msgs[2]!.id);
  e.addMailFolder(upn, 'Inbox', 'Fresh folder');
  e.renameMailFolder(upn, 'Inbox/Projects', 'Projects 2026');
  e.deleteMailFolder(upn, 'Inbox/Projects 2026/Älteres');

  const events = [...u.mailbox.events.values()];
  e.addEvent(upn, { subject: 'New planning', bodyText: 'agenda', start: '2026-12-01T09:00:00.000Z', end: '2026-12-01T10:00:00.000Z', isAllDay: false, location: 'Room 9', organizer: { name: 'Me', address: upn }, attendees: [] });
  e.updateEvent(upn, events[0]!.id, { subject: 'Moved sync', start: '2026-07-01T12:00:00.000Z', end: '2026-07-01T13:00:00.000Z' });
  e.deleteEvent(upn, events[1]!.id);

  const contacts = [...u.mailbox.contacts.values()];
  e.addContact(upn, { folderId: null, givenName: 'Nora', surname: 'New', displayName: 'Nora New', emailAddresses: [{ name: 'Nora New', address: 'nora@new.example' }], mobilePhone: '+1 555 0199', businessPhones: [], companyName: null });
  e.updateContact(upn, contacts[0]!.id, { displayName: 'Renamed Contact', companyName: 'Contoso' });
  e.deleteContact(upn, contacts[1]!.id);
  return { downloads: 2, mime: 3 };
}

describe('Microsoft 365 through Graph (tenant simulator over HTTPS, real Graph SDK and identity library)', () => {
  let suite: M365Suite;
  let contoso: SuiteTenant;
  let fabrikam: SuiteTenant;
  let firstBackupDone = '';
  let expectedFirst: ReturnType<typeof snapshotExpectation>;
  const rnd = new SeededRandom(42);

  before(async () => {
    suite = await startM365Suite([
      { name: 'contoso', seed: 11, shape: SHAPE },
      { name: 'fabrikam', seed: 22, shape: { ...SHAPE, users: 2, withoutMailbox: [], withoutDrive: [] } },
      { name: 'certco', seed: 33, shape: { ...SHAPE, users: 1, withoutMailbox: [], withoutDrive: [] }, certificate: true },
    ]);
    contoso = suite.tenants.get('contoso')!;
    fabrikam = suite.tenants.get('fabrikam')!;
  });
  after(async () => {
    await suite?.stop();
  });

  test('tenant add checks the credentials, stores the secret wrapped, and lists the tenant', async () => {
    const add = await suite.addTenant('contoso');
    assert.equal(add.code, 0, add.stderr);
    const list = await suite.cli(['tenant', 'list', '--json']);
    const tenants = JSON.parse(list.stdout) as { name: string; tenantId: string }[];
    assert.deepEqual(tenants.map((t) => t.name), ['contoso']);
    assert.equal(tenants[0]!.tenantId, contoso.tenant.tenantId);
  });

  test('full backup of five users: users without a mailbox or drive are skipped with a note, not a failure', async () => {
    const r = await suite.cli(['backup', '--tenant', 'contoso', '--json'], contoso.password);
    assert.equal(r.code, 0, r.stderr);
    const rep = report(r.stdout);
    assert.equal(rep.status, 'complete');
    assert.equal(rep.users.length, 5);
    const skipped = rep.users.flatMap((u) => u.skipped);
    assert.equal(skipped.filter((s) => s.startsWith('onedrive')).length, 1);
    assert.equal(skipped.filter((s) => s.startsWith('mail')).length, 1);
    firstBackupDone = new Date().toISOString();
    expectedFirst = snapshotExpectation(contoso);
    const target = join(suite.work, 'restore-full');
    const restore = await suite.cli(['restore', '--tenant', 'contoso', target], contoso.password);
    assert.equal(restore.code, 0, restore.stderr);
    assertRestoreMatches(target, expectedFirst);
  });

  test('after mutations of every kind, the incremental fetches only what changed and both points in time restore exactly', async () => {
    await new Promise((r) => setTimeout(r, 20));
    const upn = [...contoso.tenant.users.values()][0]!.user.userPrincipalName;
    const want = mutateEverything(contoso, upn, rnd);
    suite.sim.resetStats();
    const r = await suite.cli(['backup', '--tenant', 'contoso', '--json'], contoso.password);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(suite.sim.stats.requests.get('download') ?? 0, want.downloads, 'only the new and the modified file are downloaded (rename and move reuse chunks)');
    assert.equal(suite.sim.stats.requests.get('mail.value') ?? 0, want.mime, 'only new, changed and moved messages are fetched');
    const rep = report(r.stdout);
    const user = rep.users.find((u) => u.userPrincipalName === upn)!;
    const removed = Object.fromEntries(user.services.map((s) => [s.service, s.removed]));
    assert.ok(removed.onedrive! >= 2 && removed.mail! >= 2 && removed.calendar === 1 && removed.contacts === 1, JSON.stringify(removed));
    for (const other of rep.users.filter((u) => u.userPrincipalName !== upn)) for (const s of other.services) assert.equal(s.fetched, 0, `${other.userPrincipalName} ${s.service} unchanged`);

    const latest = join(suite.work, 'restore-latest');
    assert.equal((await suite.cli(['restore', '--tenant', 'contoso', latest], contoso.password)).code, 0);
    assertRestoreMatches(latest, snapshotExpectation(contoso));
    const earlier = join(suite.work, 'restore-earlier');
    const r2 = await suite.cli(['restore', '--tenant', 'contoso', '--at', firstBackupDone, earlier], contoso.password);
    assert.equal(r2.code, 0, r2.stderr);
    assertRestoreMatches(earlier, expectedFirst);
  });

  test('a refused delta token (410) triggers a full resync: no duplicate, no lost item, deletions seen', async () => {
    const upn = [...contoso.tenant.users.values()][1]!.user.userPrincipalName;
    const u = contoso.tenant.user(upn);
    contoso.editor.addMessage(upn, 'Inbox', { subject: 'during resync', from: { name: 'Y', address: 'y@partner.example' }, to: [], text: 'x', received: new Date().toISOString() });
    contoso.editor.deleteMessage(upn, [...u.mailbox.messages.values()][0]!.id);
    contoso.editor.deleteDriveItem(upn, contoso.editor.drivePath(u.user.id, [...u.drive.values()].find((i) => !i.folder)!.id));
    contoso.editor.deleteContact(upn, [...u.mailbox.contacts.values()][0]!.id);
    suite.sim.expireDeltaTokens(contoso.tenant, upn);
    const r = await suite.cli(['backup', '--tenant', 'contoso', '--user', upn, '--json'], contoso.password);
    assert.equal(r.code, 0, r.stderr);
    const user = report(r.stdout).users[0]!;
    for (const s of user.services) assert.ok(s.resynced > 0, `${s.service} resynced`);
    const items = Object.fromEntries(user.services.map((s) => [s.service, s.items]));
    assert.equal(items.mail, u.mailbox.messages.size + u.mailbox.folders.size + 3, 'mail items = messages + folders + the 3 mailbox configuration items (no duplicates)');
    assert.equal(items.onedrive, u.drive.size, 'drive items = items in the drive');
    assert.equal(items.contacts, u.mailbox.contacts.size + u.mailbox.contactFolders.size);
    const target = join(suite.work, 'restore-resync');
    assert.equal((await suite.cli(['restore', '--tenant', 'contoso', target], contoso.password)).code, 0);
    assertRestoreMatches(target, snapshotExpectation(contoso));
  });

  test('with faults on 10% of requests (429, 503, resets, truncated bodies, expired URLs, 410) the run completes and nothing is lost', async () => {
    for (const u of [...contoso.tenant.users.values()]) {
      const upn = u.user.userPrincipalName;
      if (u.user.hasDrive) for (let i = 0; i < 4; i++) contoso.editor.addFile(upn, `Faulty/${i}.bin`, rnd.bytes(rnd.int(1000, 900_000)));
      if (u.user.hasMailbox)
        for (let i = 0; i < 6; i++) contoso.editor.addMessage(upn, 'Inbox', { subject: `fault ${i}`, from: { name: 'Z', address: 'z@p.example' }, to: [], text: 'y'.repeat(i * 1000), received: new Date().toISOString() });
    }
    suite.sim.faults.set({ rate: 0.1, kinds: ['throttle', 'unavailable', 'reset', 'truncate', 'expireDownloadUrl', 'gone'], seed: 7, retryAfter: 1 });
    suite.sim.resetStats();
    let r;
    try {
      r = await suite.cli(['backup', '--tenant', 'contoso', '--json'], contoso.password);
    } finally {
      suite.sim.faults.set(undefined);
    }
    const injected = [...suite.sim.faults.injected.values()].reduce((a, b) => a + b, 0);
    assert.ok(injected >= 5, `faults were injected (${injected})`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(report(r.stdout).status, 'complete');
    const target = join(suite.work, 'restore-faults');
    assert.equal((await suite.cli(['restore', '--tenant', 'contoso', target], contoso.password)).code, 0);
    assertRestoreMatches(target, snapshotExpectation(contoso));
  });

  test('malformed JSON for one event and one message: those items fail (exit 3), the rest is kept, the next run retries them', async () => {
    const upn = [...contoso.tenant.users.values()][2]!.user.userPrincipalName;
    const ev = contoso.editor.addEvent(upn, { subject: 'broken on the wire', bodyText: '', start: '2026-08-01T10:00:00.000Z', end: '2026-08-01T11:00:00.000Z', isAllDay: false, location: '', organizer: { name: 'a', address: upn }, attendees: [] });
    const msg = contoso.editor.addMessage(upn, 'Inbox', { subject: 'broken too', from: { name: 'b', address: 'b@p.example' }, to: [], text: 'z', received: new Date().toISOString() });
    const fine = contoso.editor.addMessage(upn, 'Inbox', { subject: 'fine one', from: { name: 'c', address: 'c@p.example' }, to: [], text: 'ok', received: new Date().toISOString() });
    contoso.editor.corrupt(upn, ev.id);
    contoso.editor.corrupt(upn, msg.id);
    const r = await suite.cli(['backup', '--tenant', 'contoso', '--user', upn], contoso.password);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`calendar ${ev.id}: malformed event`));
    assert.match(r.stderr, new RegExp(`mail ${msg.id}: malformed message`));
    const ls = await suite.cli(['ls', '--tenant', 'contoso', '--user', upn, '--service', 'mail', '--json'], contoso.password);
    assert.equal(ls.code, 0, ls.stderr);
    const subjects = (JSON.parse(ls.stdout) as { entries: { subject?: string }[] }).entries.map((e) => e.subject);
    assert.ok(subjects.includes('fine one') && !subjects.includes('broken too'));

    contoso.editor.corrupt(upn, ev.id, false);
    contoso.editor.corrupt(upn, msg.id, false);
    const again = await suite.cli(['backup', '--tenant', 'contoso', '--user', upn], contoso.password);
    assert.equal(again.code, 0, again.stderr);
    const target = join(suite.work, 'restore-malformed');
    assert.equal((await suite.cli(['restore', '--tenant', 'contoso', target], contoso.password)).code, 0);
    assertRestoreMatches(target, snapshotExpectation(contoso));
    void fine;
  });

  test('two tenants stay isolated: each has its own repository, and one tenant\'s password cannot read the other', async () => {
    assert.equal((await suite.addTenant('fabrikam')).code, 0);
    const b = await suite.cli(['backup', '--tenant', 'fabrikam'], fabrikam.password);
    assert.equal(b.code, 0, b.stderr);
    const wrong = await suite.cli(['restore', '--tenant', 'fabrikam', join(suite.work, 'x1')], contoso.password);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /password/i);
    const wrong2 = await suite.cli(['restore', '--tenant', 'contoso', join(suite.work, 'x2')], fabrikam.password);
    assert.equal(wrong2.code, 1);
    const target = join(suite.work, 'restore-fabrikam');
    assert.equal((await suite.cli(['restore', '--tenant', 'fabrikam', target], fabrikam.password)).code, 0);
    assertRestoreMatches(target, snapshotExpectation(fabrikam));
    const tables = await suite.storage.tables.listTables();
    assert.ok(tables.includes('m365backupcontosoitems') && tables.includes('m365backupfabrikamitems'), tables.join(','));
  });

  test('an app registration with a certificate (client assertion) backs up and restores', async () => {
    const certco = suite.tenants.get('certco')!;
    const add = await suite.addTenant('certco');
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /client certificate is stored wrapped/);
    const b = await suite.cli(['backup', '--tenant', 'certco'], certco.password);
    assert.equal(b.code, 0, b.stderr);
    const target = join(suite.work, 'restore-certco');
    assert.equal((await suite.cli(['restore', '--tenant', 'certco', target], certco.password)).code, 0);
    assertRestoreMatches(target, snapshotExpectation(certco));
    assert.equal(suite.sim.identity.failures, 0, 'no refused token request so far');
  });

  test('bad input: unknown tenant, user or service, and wrong credentials give one clear sentence and the right exit code', async () => {
    const unknownTenant = await suite.cli(['backup', '--tenant', 'nosuch'], contoso.password);
    assert.equal(unknownTenant.code, 1);
    assert.match(unknownTenant.stderr, /Unknown tenant "nosuch"\. Registered tenants: certco, contoso, fabrikam\./);
    const unknownUser = await suite.cli(['backup', '--tenant', 'contoso', '--user', 'ghost@contoso.example'], contoso.password);
    assert.equal(unknownUser.code, 1);
    assert.match(unknownUser.stderr, /Tenant "contoso" has no user "ghost@contoso.example"/);
    const unknownService = await suite.cli(['backup', '--tenant', 'contoso', '--service', 'yammer'], contoso.password);
    assert.equal(unknownService.code, 2);
    assert.match(unknownService.stderr, /Unknown service "yammer"/);

    const badSecret = join(suite.work, 'bad.secret');
    writeFileSync(badSecret, 'not-the-secret');
    const addChecked = await suite.cli(['tenant', 'add', '--name', 'badcreds', '--tenant-id', contoso.tenant.tenantId, '--client-id', contoso.tenant.apps[0]!.clientId, '--client-secret-file', badSecret], 'pw-badcreds-123');
    assert.equal(addChecked.code, 1);
    assert.match(addChecked.stderr, /Tenant "badcreds": Microsoft Entra ID refused the app registration's credentials \(AADSTS7000215/);
    const addUnchecked = await suite.cli(['tenant', 'add', '--name', 'badcreds', '--skip-check', '--tenant-id', contoso.tenant.tenantId, '--client-id', contoso.tenant.apps[0]!.clientId, '--client-secret-file', badSecret], 'pw-badcreds-123');
    assert.equal(addUnchecked.code, 0, addUnchecked.stderr);
    const backup = await suite.cli(['backup', '--tenant', 'badcreds'], 'pw-badcreds-123');
    assert.equal(backup.code, 1);
    assert.match(backup.stderr, /Tenant "badcreds": Microsoft Entra ID refused/);
    assert.equal((await suite.cli(['tenant', 'remove', '--name', 'badcreds'])).code, 0);
  });

  test('verify --read-data finds the tenant repositories intact', async () => {
    for (const t of [contoso, fabrikam]) {
      const v = await suite.cli(['--repository', `m365backup${t.name}`, 'verify', '--read-data', '--json'], t.password);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.deepEqual((JSON.parse(v.stdout) as { issues: unknown[] }).issues, []);
    }
  });

  test('no client secret, token or password appears in any output line, stored row or blob', async () => {
    const certco = suite.tenants.get('certco')!;
    const secrets = [contoso.secret, fabrikam.secret, certco.secret, contoso.password, fabrikam.password, certco.password, 'pw-badcreds-123', ...suite.sim.identity.issuedTokens()];
    assert.ok(secrets.length > 5);
    const needles = secrets.flatMap((s) => [s, Buffer.from(s).toString('base64')]);
    const haystack: string[] = [...suite.output];
    for (const table of await suite.storage.tables.listTables())
      for await (const row of suite.storage.tables.query(table)) haystack.push(JSON.stringify(row, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)));
    for (const container of ['m365backupcontoso-packs', 'm365backupcontoso-meta', 'm365backupfabrikam-meta'])
      for await (const blob of suite.storage.blobs.list(container)) haystack.push((await suite.storage.blobs.getBlob(container, blob.name)).toString('latin1'));
    const text = haystack.join('\n');
    assert.ok(text.length > 100_000, 'the scan covered real data');
    for (const n of needles) assert.ok(!text.includes(n), `a secret (${n.slice(0, 6)}…) leaked`);
  });
});
