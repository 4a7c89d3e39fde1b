import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SeededRandom } from '../shared/local';
import { SETTING_NAMES } from '../shared/config';
import { CLI_MAIN } from './support/cli';
import { addTenantWithRestoreApp, startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import type { SimUserData } from '../simulator/tenant/model';
import { summarizeMime } from '../shared/restore/m365/write/mimeParts';

const SHAPE = { users: 3, filesPerUser: 4, maxFileBytes: 200_000, messagesPerUser: 10, eventsPerUser: 2, contactsPerUser: 4, withoutMailbox: [2], withoutDrive: [] };
const READ = ['User.Read.All', 'Files.Read.All', 'Mail.Read', 'Calendars.Read', 'Contacts.Read'];
const WRITE = ['Files.ReadWrite.All', 'Mail.ReadWrite', 'MailboxSettings.ReadWrite', 'Mail-Advanced.ReadWrite.All', 'Calendars.ReadWrite', 'Contacts.ReadWrite'];
/** Simulator routes that change the tenant (what "nothing written" counts). */
const WRITE_ROUTES = ['drive.upload', 'drive.uploadSession', 'upload', 'drive.createFolder', 'drive.patch', 'mail.createFolder', 'mail.createMessage', 'mail.importMime', 'mail.patch', 'mail.delete', 'contacts.createFolder', 'contacts.create', 'contacts.delete', 'mail.attachUploadSession'];

interface Counts {
  restored: number;
  skipped: number;
  renamed: number;
  failed: number;
}
const countsOf = (stdout: string) => (JSON.parse(stdout.trim().split('\n').at(-1)!) as { counts: Counts }).counts;

/** Every file of a user's drive by path: bytes and modification time. */
function driveFiles(t: SuiteTenant, u: SimUserData): Map<string, { data: Buffer; modified: string }> {
  const out = new Map<string, { data: Buffer; modified: string }>();
  for (const i of u.drive.values()) if (!i.folder && i.parentId) out.set(t.editor.drivePath(u.user.id, i.id), { data: i.content ?? Buffer.alloc(0), modified: i.modified });
  return out;
}
/** Every message of a user by folder path and Internet message id: MIME, draft state, read state. */
function messages(t: SuiteTenant, u: SimUserData): Map<string, { mime: Buffer; isDraft: boolean; isRead: boolean; categories: string[] }> {
  const out = new Map<string, { mime: Buffer; isDraft: boolean; isRead: boolean; categories: string[] }>();
  for (const m of u.mailbox.messages.values()) out.set(`${t.editor.mailFolderPath(u.user.id, m.folderId)}|${m.internetMessageId}`, { mime: m.mime, isDraft: m.isDraft ?? false, isRead: m.isRead, categories: m.categories });
  return out;
}
/** Every contact of a user with its folder's path ("" for the default Contacts folder), under `root` (a path prefix) if given. */
function contacts(t: SuiteTenant, u: SimUserData, root?: string): string[] {
  const out: string[] = [];
  for (const c of u.mailbox.contacts.values()) {
    const path = t.editor.contactFolderPath(u.user.id, c.folderId);
    const rel = root === undefined ? path : path === root ? '' : path.startsWith(`${root}/`) ? path.slice(root.length + 1) : undefined;
    if (rel !== undefined) out.push(JSON.stringify([rel, c.displayName, c.givenName, c.surname, c.emailAddresses, c.mobilePhone, c.businessPhones, c.companyName]));
  }
  return out.sort();
}
/** Every contact folder of a user by path, under `root` if given. */
function contactFolderPaths(t: SuiteTenant, u: SimUserData, root?: string): string[] {
  const paths = [...u.mailbox.contactFolders.keys()].map((id) => t.editor.contactFolderPath(u.user.id, id));
  return (root === undefined ? paths : paths.filter((p) => p.startsWith(`${root}/`)).map((p) => p.slice(root.length + 1))).sort();
}
const writes = (suite: M365Suite) => WRITE_ROUTES.reduce((n, r) => n + (suite.sim.stats.requests.get(r) ?? 0), 0);

describe('restore back into Microsoft 365 (in place, to another user; simulator over HTTPS, real Graph SDK)', () => {
  let suite: M365Suite;
  let t: SuiteTenant;
  let a: SimUserData;
  let b: SimUserData;
  let noMailbox: SimUserData;
  let original: { files: Map<string, { data: Buffer; modified: string }>; mail: ReturnType<typeof messages>; contacts: string[]; contactFolders: string[] };
  /** The attachment (> 3 MB: an upload session in the JSON fallback) of the message in Inbox/Large. */
  let largeAttachment: Buffer;
  const rnd = new SeededRandom(7);

  before(async () => {
    suite = await startM365Suite([{ name: 'contoso', seed: 5, shape: SHAPE }]);
    t = suite.tenants.get('contoso')!;
    const users = [...t.tenant.users.values()];
    [a, b, noMailbox] = [users[0]!, users[1]!, users[2]!];
    const upn = a.user.userPrincipalName;
    // What the disaster will take: a folder subtree with a > 10 MiB file and non-ASCII names, a mail folder with attachments, contacts.
    t.editor.addFile(upn, 'Projekte/Größer Bericht.bin', rnd.bytes(10 * 1024 * 1024 + 123_457), '2025-03-04T05:06:07.000Z');
    t.editor.addFile(upn, 'Projekte/Entwürfe/Résumé ✓.txt', Buffer.from('naïve café — 履歴書\n'), '2024-01-02T03:04:05.000Z');
    t.editor.addFile(upn, 'Projekte/Entwürfe/empty.txt', Buffer.alloc(0), '2024-01-02T03:04:06.000Z');
    t.editor.addMessage(upn, 'Inbox/Projects', {
      subject: 'Angebot Ü ✉',
      from: { name: 'Partner', address: 'p@partner.example' },
      to: [{ name: 'A', address: upn }],
      text: 'see attached',
      received: '2025-02-03T04:05:06.000Z',
      attachments: [{ name: 'angebot.pdf', contentType: 'application/pdf', data: rnd.bytes(200_000) }],
      isRead: true,
      categories: ['Blue category'],
    });
    // Contact folders nested in contact folders (Graph: contactFolders/{id}/childFolders), with contacts at every level.
    const clients = [...a.mailbox.contactFolders.values()].find((f) => f.displayName === 'Clients')!.id;
    const europe = t.editor.addContactFolder(upn, 'Europe', clients);
    const germany = t.editor.addContactFolder(upn, 'Deutschland', europe);
    const family = t.editor.addContactFolder(upn, 'Family');
    t.editor.addContactFolder(upn, 'Europe', family); // the same name at another place in the tree
    const person = (folderId: string, gn: string, sn: string) =>
      t.editor.addContact(upn, { folderId, givenName: gn, surname: sn, displayName: `${gn} ${sn}`, emailAddresses: [{ name: `${gn} ${sn}`, address: `${gn}.${sn}@example.org`.toLowerCase() }], mobilePhone: null, businessPhones: [], companyName: null });
    person(europe, 'Élise', 'Martin');
    person(germany, 'Jürgen', 'Groß');
    person(germany, 'Anna', 'Schmidt');
    person(family, 'Ben', 'Doe');
    largeAttachment = rnd.bytes(5 * 1024 * 1024 + 4321);
    t.editor.addMailFolder(upn, 'Inbox', 'Large');
    t.editor.addMessage(upn, 'Inbox/Large', {
      subject: 'Plans (large)',
      from: { name: 'Partner', address: 'p@partner.example' },
      to: [{ name: 'A', address: upn }],
      text: 'the plans, 5 MB',
      received: '2025-02-04T04:05:06.000Z',
      attachments: [{ name: 'plans.bin', contentType: 'application/octet-stream', data: largeAttachment }],
      isRead: false,
      categories: [],
    });
    // Backups read with the read-only app; restores write with a second app registration.
    await addTenantWithRestoreApp(suite, t, READ, [...READ, ...WRITE]);
    const backup = await suite.cli(['backup', '--tenant', 'contoso', '--json'], t.password);
    assert.equal(backup.code, 0, backup.stderr);
    original = { files: driveFiles(t, a), mail: messages(t, a), contacts: contacts(t, a), contactFolders: contactFolderPaths(t, a) };
    assert.ok(original.contactFolders.includes('Clients/Europe/Deutschland'), 'the simulated tenant has nested contact folders');
  });
  after(async () => {
    await suite?.stop();
  });

  const restore = (args: string[], password = t.password) => suite.cli(['restore', '--tenant', 'contoso', '--json', ...args], password);

  test('bad input: one sentence, the right exit code, nothing written', async () => {
    suite.sim.resetStats();
    const cases: [string[], number, RegExp][] = [
      [['--user', a.user.userPrincipalName, '--to-user', 'nobody@contoso.example'], 1, /has no user "nobody@contoso\.example"/],
      [['--user', a.user.userPrincipalName, '--to-user', noMailbox.user.userPrincipalName, '--service', 'mail'], 2, /has no mailbox/],
      [['--user', a.user.userPrincipalName, '--in-place', '--path', 'Inbox//Projects'], 2, /is not a folder path/],
      [['--user', a.user.userPrincipalName, '--in-place', '--at', 'yesterday-ish'], 2, /is not a date or time/],
      [['--user', a.user.userPrincipalName, '--in-place', '--conflict', 'overwrite'], 2, /is not one of skip, rename, replace/],
      [['--user', 'ghost@contoso.example', '--in-place'], 1, /no backed-up user/],
      [['--user', a.user.userPrincipalName, '--in-place', '--to-user', b.user.userPrincipalName], 2, /either --in-place or --to-user/],
    ];
    for (const [args, code, message] of cases) {
      const r = await restore(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    // The restore app without its write roles: the missing role is named before any write.
    const app = t.tenant.apps[1]!;
    const granted = app.roles;
    app.roles = READ;
    try {
      const r = await restore(['--user', a.user.userPrincipalName, '--in-place', '--service', 'mail']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /Mail\.ReadWrite/);
      assert.match(r.stderr, /admin consent/i);
    } finally {
      app.roles = granted;
    }
    assert.equal(writes(suite), 0, 'nothing was written to the tenant');
  });

  test('a disaster, then restore --in-place: every file, message and contact is back; a rerun adds nothing', async () => {
    const upn = a.user.userPrincipalName;
    t.editor.deleteDriveItem(upn, 'Projekte');
    t.editor.deleteMailFolder(upn, 'Inbox/Projects');
    for (const c of [...a.mailbox.contacts.values()]) t.editor.deleteContact(upn, c.id);
    assert.notDeepEqual(driveFiles(t, a).size, original.files.size);

    suite.sim.resetStats();
    const r = await restore(['--user', upn, '--in-place']);
    assert.equal(r.code, 0, r.stderr);
    const c = countsOf(r.stdout);
    assert.ok(c.restored > 0 && c.failed === 0, JSON.stringify(c));
    assert.equal(suite.sim.uploads.authorizationHeaders, 0, 'no Authorization header on upload URLs');
    assert.ok(suite.sim.uploads.fragments >= 2, 'the large file went up in fragments of an upload session');

    const files = driveFiles(t, a);
    assert.deepEqual([...files.keys()].sort(), [...original.files.keys()].sort(), 'every file is back at its path');
    for (const [path, f] of original.files) {
      assert.ok(files.get(path)!.data.equals(f.data), `${path} is byte-identical`);
      assert.equal(files.get(path)!.modified, f.modified, `${path} keeps its modification time`);
    }
    const mail = messages(t, a);
    assert.deepEqual([...mail.keys()].sort(), [...original.mail.keys()].sort(), 'every message is back in its folder');
    for (const [k, m] of original.mail) {
      const got = mail.get(k)!;
      assert.ok(got.mime.equals(m.mime), `${k}: the MIME (body and attachments) is equal`);
      assert.equal(got.isDraft, false, `${k} is not a draft`);
      assert.equal(got.isRead, m.isRead, `${k} read state`);
      assert.deepEqual(got.categories, m.categories, `${k} categories`);
    }
    assert.deepEqual(contacts(t, a), original.contacts, 'the contacts are equal');

    const again = await restore(['--user', upn, '--in-place']);
    assert.equal(again.code, 0, again.stderr);
    const c2 = countsOf(again.stdout);
    assert.equal(c2.restored + c2.renamed, 0, `the rerun created nothing: ${JSON.stringify(c2)}`);
    assert.equal(driveFiles(t, a).size, original.files.size);
    assert.equal(messages(t, a).size, original.mail.size);
    assert.deepEqual(contacts(t, a), original.contacts);
  });

  test('a part whose writes are refused fails alone: the other parts are restored, exit 3 names it; a rerun restores it, nothing twice', async () => {
    const upn = a.user.userPrincipalName;
    t.editor.deleteDriveItem(upn, 'Projekte');
    t.editor.deleteMailFolder(upn, 'Inbox/Projects');
    suite.sim.writeRefusals.set(a.user.id, 'mail', true);
    let r;
    try {
      r = await restore(['--user', upn, '--in-place']);
    } finally {
      suite.sim.writeRefusals.set(a.user.id, 'mail', false);
    }
    assert.equal(r.code, 3, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { failures: { path: string; reason: string }[] };
    assert.deepEqual(out.failures.map((f) => f.path), [`${upn}/mail (the rest of the part)`], r.stdout);
    assert.match(out.failures[0]!.reason, /403|denied/i);
    assert.deepEqual([...driveFiles(t, a).keys()].sort(), [...original.files.keys()].sort(), 'the OneDrive part was restored');
    assert.ok(messages(t, a).size < original.mail.size, 'the refused mail part wrote nothing');

    const again = await restore(['--user', upn, '--in-place']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual([...messages(t, a).keys()].sort(), [...original.mail.keys()].sort(), 'the rerun restored the mail');
    assert.equal(driveFiles(t, a).size, original.files.size, 'no file twice');
  });

  test('a restore killed with SIGKILL mid-way and run again ends complete, with no duplicate', async () => {
    const upn = a.user.userPrincipalName;
    t.editor.deleteMailFolder(upn, 'Inbox/Projects');
    for (const c of [...a.mailbox.contacts.values()]) t.editor.deleteContact(upn, c.id);
    suite.sim.resetStats();
    suite.sim.setLatency(25);
    const child = spawn(process.execPath, [CLI_MAIN, 'restore', '--tenant', 'contoso', '--user', upn, '--in-place', '--service', 'mail,contacts', '--json'], {
      env: { ...suite.processEnv(), [SETTING_NAMES.password]: t.password },
      stdio: 'ignore',
    });
    const killed = await new Promise<boolean>((resolve) => {
      const poll = setInterval(() => {
        if ((suite.sim.stats.requests.get('mail.importMime') ?? 0) + (suite.sim.stats.requests.get('contacts.create') ?? 0) >= 3) {
          clearInterval(poll);
          child.kill('SIGKILL');
        }
      }, 5);
      child.on('close', (_code, signal) => {
        clearInterval(poll);
        resolve(signal === 'SIGKILL');
      });
    });
    suite.sim.setLatency(0);
    assert.ok(killed, 'the first run was killed mid-way');
    const r = await restore(['--user', upn, '--in-place', '--service', 'mail,contacts']);
    assert.equal(r.code, 0, r.stderr);
    const mail = messages(t, a);
    assert.deepEqual([...mail.keys()].sort(), [...original.mail.keys()].sort(), 'every message once: none missing, none twice');
    assert.equal(a.mailbox.messages.size, original.mail.size);
    assert.deepEqual(contacts(t, a), original.contacts, 'every contact once');
  });

  test('--to-user puts the OneDrive folder and the mail folder into another user under "Restored from <upn> <date>"', async () => {
    const upn = a.user.userPrincipalName;
    const r = await restore(['--user', upn, '--to-user', b.user.userPrincipalName, '--service', 'onedrive,mail', '--path', 'Projekte']);
    assert.equal(r.code, 0, r.stderr);
    const bFiles = driveFiles(t, b);
    const root = [...bFiles.keys()].find((p) => p.startsWith(`Restored from ${upn} `))?.split('/')[0];
    assert.ok(root, `a folder "Restored from ${upn} <date>" in the drive of ${b.user.userPrincipalName}`);
    for (const [path, f] of original.files) if (path.startsWith('Projekte/')) assert.ok(bFiles.get(`${root}/${path}`)?.data.equals(f.data), `${path} is in the other user's drive`);
    const m = await restore(['--user', upn, '--to-user', b.user.userPrincipalName, '--service', 'mail', '--path', 'Inbox/Projects']);
    assert.equal(m.code, 0, m.stderr);
    const bMail = messages(t, b);
    const wanted = [...original.mail.keys()].filter((k) => k.startsWith('Inbox/Projects'));
    assert.ok(wanted.length > 0);
    for (const k of wanted) assert.ok(bMail.has(`${root}/${k}`), `${k} is under ${root} in the other mailbox`);
    for (const k of original.mail.keys()) if (!k.startsWith('Inbox/Projects')) assert.ok(!bMail.has(`${root}/${k}`), `${k} is outside --path and not restored`);
  });

  test('--conflict skip leaves a changed file untouched, rename writes beside it, replace puts the backup back', async () => {
    const upn = a.user.userPrincipalName;
    const path = 'Projekte/Entwürfe/Résumé ✓.txt';
    const backedUp = original.files.get(path)!.data;
    // Make the live file the tenant's own (not the restore's): delete and re-add it with new content.
    t.editor.deleteDriveItem(upn, path);
    t.editor.addFile(upn, path, Buffer.from('changed after the backup'));
    const args = ['--user', upn, '--in-place', '--service', 'onedrive', '--path', 'Projekte/Entwürfe'];
    const skip = await restore(args);
    assert.equal(skip.code, 0, skip.stderr);
    assert.equal(t.editor.driveItem(upn, path).content!.toString(), 'changed after the backup', 'skip leaves it untouched');
    const rename = await restore([...args, '--conflict', 'rename']);
    assert.equal(rename.code, 0, rename.stderr);
    assert.ok(countsOf(rename.stdout).renamed >= 1);
    assert.equal(t.editor.driveItem(upn, path).content!.toString(), 'changed after the backup');
    assert.ok(t.editor.driveItem(upn, 'Projekte/Entwürfe/Résumé ✓ 1.txt').content!.equals(backedUp), 'rename writes the backup beside it');
    const replace = await restore([...args, '--conflict', 'replace']);
    assert.equal(replace.code, 0, replace.stderr);
    assert.ok(t.editor.driveItem(upn, path).content!.equals(backedUp), 'replace puts the backup back');
    assert.equal([...a.drive.values()].filter((i) => i.name.startsWith('Résumé ✓')).length, 2, 'replace made no third copy');
  });

  test('without Mail-Advanced.ReadWrite.All, messages come back as JSON with PidTagMessageFlags: not drafts, times, read state and attachments kept', async () => {
    const upn = a.user.userPrincipalName;
    const app = t.tenant.apps[1]!;
    const granted = app.roles;
    app.roles = granted!.filter((r) => r !== 'Mail-Advanced.ReadWrite.All');
    try {
      const inProjects = [...a.mailbox.messages.values()].filter((m) => t.editor.mailFolderPath(a.user.id, m.folderId).startsWith('Inbox/Projects')).map((m) => ({ ...m }));
      assert.ok(inProjects.some((m) => m.hasAttachments));
      t.editor.deleteMailFolder(upn, 'Inbox/Projects');
      suite.sim.resetStats();
      const r = await restore(['--user', upn, '--in-place', '--service', 'mail', '--path', 'Inbox/Projects']);
      assert.equal(r.code, 0, r.stderr);
      const tried = suite.sim.stats.requests.get('mail.importMime') ?? 0;
      assert.ok(tried >= 1 && tried <= 4, `importMime was refused, then not asked again (asked ${tried} times, at most once per message in flight)`);
      const back = new Map([...a.mailbox.messages.values()].map((m) => [m.internetMessageId, m]));
      for (const m of inProjects) {
        const got = back.get(m.internetMessageId);
        assert.ok(got, `${m.subject} is back`);
        assert.ok(t.editor.mailFolderPath(a.user.id, got.folderId).startsWith('Inbox/Projects'), 'in its folder');
        assert.equal(got.isDraft, false, `${m.subject} is not a draft`);
        assert.equal(got.subject, m.subject);
        assert.equal(got.receivedDateTime, m.receivedDateTime, 'delivery time from PidTagMessageDeliveryTime');
        // The backup's state (captured before any restore): an earlier test's SIGKILL may have stopped a
        // restore between a message's import and its PATCH, which the live copy would then carry.
        const backedUp = [...original.mail.entries()].find(([k]) => k.endsWith(`|${m.internetMessageId}`))![1];
        assert.equal(got.isRead, backedUp.isRead, `${m.subject}: read state`);
        assert.deepEqual(got.categories, backedUp.categories, `${m.subject}: categories`);
        assert.equal(got.hasAttachments, m.hasAttachments, `${m.subject}: attachments`);
      }
    } finally {
      app.roles = granted;
    }
  });
  test('nested contact folders deleted with their contacts: restore --in-place brings the tree and the contacts back; --to-user keeps the tree under "Restored from"; a rerun adds nothing', async () => {
    const upn = a.user.userPrincipalName;
    const byPath = (path: string) => [...a.mailbox.contactFolders.keys()].find((id) => t.editor.contactFolderPath(a.user.id, id) === path)!;
    t.editor.deleteContactFolder(upn, byPath('Clients/Europe'));
    t.editor.deleteContactFolder(upn, byPath('Family'));
    for (const c of [...a.mailbox.contacts.values()]) if (c.folderId === null) t.editor.deleteContact(upn, c.id);
    assert.ok(!contactFolderPaths(t, a).includes('Clients/Europe'));

    const r = await restore(['--user', upn, '--in-place', '--service', 'contacts']);
    assert.equal(r.code, 0, r.stderr);
    const c = countsOf(r.stdout);
    assert.ok(c.restored > 0 && c.failed === 0, JSON.stringify(c));
    assert.deepEqual(contactFolderPaths(t, a), original.contactFolders, 'every contact folder is back at its path (Clients kept, its children created)');
    assert.deepEqual(contacts(t, a), original.contacts, 'every contact is back in its folder');

    const again = await restore(['--user', upn, '--in-place', '--service', 'contacts']);
    assert.equal(again.code, 0, again.stderr);
    const c2 = countsOf(again.stdout);
    assert.equal(c2.restored + c2.renamed, 0, `the rerun created nothing: ${JSON.stringify(c2)}`);
    assert.deepEqual(contactFolderPaths(t, a), original.contactFolders);
    assert.deepEqual(contacts(t, a), original.contacts);

    const other = await restore(['--user', upn, '--to-user', b.user.userPrincipalName, '--service', 'contacts']);
    assert.equal(other.code, 0, other.stderr);
    const root = [...b.mailbox.contactFolders.values()].find((f) => f.parentFolderId === null && f.displayName.startsWith(`Restored from ${upn} `))?.displayName;
    assert.ok(root, `a contact folder "Restored from ${upn} <date>" in ${b.user.userPrincipalName}`);
    assert.deepEqual(contactFolderPaths(t, b, root), original.contactFolders, 'the same tree under the restored-from folder');
    assert.deepEqual(contacts(t, b, root), original.contacts, 'every contact in the folder of the same path under it (default-folder contacts in it)');
    const otherAgain = await restore(['--user', upn, '--to-user', b.user.userPrincipalName, '--service', 'contacts']);
    assert.equal(otherAgain.code, 0, otherAgain.stderr);
    const c3 = countsOf(otherAgain.stdout);
    assert.equal(c3.restored + c3.renamed, 0, `the rerun to the other user created nothing: ${JSON.stringify(c3)}`);
    assert.deepEqual(contacts(t, b, root), original.contacts);
  });

  test('a message with a 5 MB attachment through the JSON fallback: the attachment goes up in an upload session, byte-identical, the message not a draft', async () => {
    const upn = a.user.userPrincipalName;
    const app = t.tenant.apps[1]!;
    const granted = app.roles;
    app.roles = granted!.filter((r) => r !== 'Mail-Advanced.ReadWrite.All');
    try {
      t.editor.deleteMailFolder(upn, 'Inbox/Large');
      suite.sim.resetStats();
      const authorizationBefore = suite.sim.uploads.authorizationHeaders;
      const r = await restore(['--user', upn, '--in-place', '--service', 'mail', '--path', 'Inbox/Large']);
      assert.equal(r.code, 0, r.stderr);
      const c = countsOf(r.stdout);
      assert.equal(c.failed, 0, JSON.stringify(c));
      assert.equal(suite.sim.stats.requests.get('mail.attachUploadSession'), 1, 'one upload session for the attachment over 3 MB');
      assert.ok((suite.sim.stats.requests.get('upload') ?? 0) >= 2, 'its bytes went up in fragments of at most 4 MB');
      assert.equal(suite.sim.uploads.authorizationHeaders, authorizationBefore, 'no Authorization header on the upload URL');
      const back = [...a.mailbox.messages.values()].filter((m) => t.editor.mailFolderPath(a.user.id, m.folderId) === 'Inbox/Large');
      assert.equal(back.length, 1, 'the message is back once in Inbox/Large');
      assert.equal(back[0]!.isDraft, false, 'not a draft');
      assert.equal(back[0]!.hasAttachments, true);
      const attachments = summarizeMime(back[0]!.mime).attachments;
      assert.deepEqual(attachments.map((x) => x.name), ['plans.bin']);
      assert.ok(attachments[0]!.data.equals(largeAttachment), 'the attachment is byte-identical');

      const again = await restore(['--user', upn, '--in-place', '--service', 'mail', '--path', 'Inbox/Large']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(countsOf(again.stdout).restored, 0, 'a rerun adds nothing');
      assert.equal([...a.mailbox.messages.values()].filter((m) => t.editor.mailFolderPath(a.user.id, m.folderId) === 'Inbox/Large').length, 1);
    } finally {
      app.roles = granted;
    }
  });
});
