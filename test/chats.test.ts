import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import { ChatEditor, chatsOf, type SimChat } from '../simulator/tenant/chats';
import type { SimUser } from '../simulator/tenant/model';
import type { TenantBackupReport } from '../shared/backup/m365/tenantBackup';

/**
 * Issue 11: one-on-one and group chats are a tenant setting, off by default (Chat.Read.All is a
 * protected API). Through the real Graph SDK over HTTPS against the simulator: a default backup
 * never asks for chats; `--service chats` does; with the setting on, a full backup, then an edited,
 * a new (with an image) and a deleted message, and the incremental backup is handed only those
 * (counted at the simulator); both points in time restore exactly.
 */
const SHAPE = { users: 4, filesPerUser: 0, maxFileBytes: 100, messagesPerUser: 0, eventsPerUser: 0, contactsPerUser: 0 };
const IMAGE_A = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 5, 6, 7, 8]);
const IMAGE_B = Buffer.from([0x89, 0x50, 0x4e, 0x47, 9, 9, 9, 9, 0, 0, 255]);
const TOPIC = 'Launch <plan> & "notes"';

const report = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as TenantBackupReport;
const chatsOutcomes = (r: TenantBackupReport) => r.users.flatMap((u) => u.services.filter((s) => s.service === 'chats').map((s) => ({ upn: u.userPrincipalName, ...s })));

/** What a restore of one user's chats must hold right now: per chat folder, each live message's id, author, time, text and images. */
function expectedChats(chats: SimChat[], user: SimUser) {
  return chats
    .filter((c) => c.members.some((m) => m.userId === user.id))
    .map((c) => ({
      folder: c.topic ?? c.members.map((m) => m.displayName).sort().join(', '),
      messages: [...c.messages.values()].filter((m) => !m.deleted).map((m) => ({ id: m.id, author: m.from.displayName, created: m.created, text: m.html.replace(/<[^>]*>/g, ''), images: [...m.hosted.values()].map((h) => h.data) })),
    }));
}

function checkRestore(dir: string, user: SimUser, expected: ReturnType<typeof expectedChats>) {
  const root = join(dir, user.userPrincipalName, 'Chats');
  assert.ok(existsSync(join(root, '_items.json')));
  assert.equal(readdirSync(root).filter((f) => f !== '_items.json').length, expected.length, `${user.userPrincipalName}: one folder per chat`);
  for (const c of expected) {
    const folder = readdirSync(root).find((f) => (c.folder.includes('<') ? f.startsWith('Launch') : f === c.folder));
    assert.ok(folder, `${user.userPrincipalName}: a folder for chat "${c.folder}" among ${readdirSync(root).join(' | ')}`);
    const base = join(root, folder);
    const files = readdirSync(join(base, 'messages')).sort();
    assert.deepEqual(files, c.messages.map((m) => `${m.id}.json`).sort(), `${c.folder}: every live message once, no deleted one`);
    const html = readFileSync(join(base, 'transcript.html'), 'utf8');
    assert.ok(!html.includes('<plan>'), 'the topic is HTML-escaped in the transcript');
    for (const m of c.messages) {
      const stored = JSON.parse(readFileSync(join(base, 'messages', `${m.id}.json`), 'utf8')) as { from: { user: { displayName: string } }; createdDateTime: string; deletedDateTime: string | null };
      assert.equal(stored.from.user.displayName, m.author);
      assert.equal(stored.createdDateTime, m.created);
      assert.equal(stored.deletedDateTime, null);
      assert.ok(html.includes(m.text), `the transcript shows "${m.text}"`);
      assert.ok(html.includes(`id="m${m.id}"`), 'each message once in the transcript');
      assert.equal(html.split(`id="m${m.id}"`).length, 2, 'each message exactly once in the transcript');
      m.images.forEach((img, i) => assert.deepEqual(readFileSync(join(base, 'images', `${m.id}-${i + 1}.png`)), img, 'images byte-identical'));
    }
    const authors = new Set(c.messages.map((m) => m.author));
    for (const a of authors) assert.ok(html.includes(`<b>${a}</b>`), `author ${a} in the transcript`);
    const images = existsSync(join(base, 'images')) ? readdirSync(join(base, 'images')).length : 0;
    assert.equal(images, c.messages.reduce((n, m) => n + m.images.length, 0), 'no image of a deleted or edited-away message');
  }
}

describe('Chats: a tenant setting, off by default; incremental by lastModifiedDateTime; restored as transcripts', () => {
  let suite: M365Suite;
  let t: SuiteTenant;
  let users: SimUser[];
  let chats: ChatEditor;
  let oneOnOne: SimChat;
  let group: SimChat;
  let pointA: string;
  let expectedA: Map<string, ReturnType<typeof expectedChats>>;

  before(async () => {
    suite = await startM365Suite([{ name: 'contoso', seed: 91, shape: SHAPE }]);
    t = suite.tenants.get('contoso')!;
    users = [...t.tenant.users.values()].map((u) => u.user).slice(0, 4);
    chats = new ChatEditor(t.tenant);
    oneOnOne = chats.addChat({ members: [users[0]!.id, users[1]!.id] });
    group = chats.addChat({ members: [users[0]!.id, users[1]!.id, users[2]!.id], topic: TOPIC });
    const at = (d: number, h: number) => new Date(Date.UTC(2026, 4, d, h)).toISOString();
    chats.post(oneOnOne, { from: users[0]!.id, html: '<p>hi there</p>', created: at(1, 9) });
    chats.post(oneOnOne, { from: users[1]!.id, html: '<p>see the chart</p>', created: at(1, 10), images: [IMAGE_A] });
    chats.post(oneOnOne, { from: users[0]!.id, html: '<p>thanks</p>', created: at(1, 11) });
    for (let i = 0; i < 60; i++) chats.post(group, { from: users[i % 3]!.id, html: `<p>group line ${i}</p>`, created: new Date(Date.UTC(2026, 4, 2, 0, i)).toISOString() });
    assert.equal((await suite.addTenant('contoso')).code, 0);
  });
  after(async () => {
    await suite?.stop();
  });

  test('a default backup never asks Graph for chats; --service chats does', async () => {
    const r = await suite.cli(['backup', '--tenant', 'contoso', '--json'], t.password);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(chatsOutcomes(report(r.stdout)), [], 'no chats outcome');
    assert.equal(suite.sim.stats.requests.get('user.chats') ?? 0, 0, 'no request for chats');
    const all = await suite.cli(['backup', '--tenant', 'contoso', '--service', 'all', '--json'], t.password);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(suite.sim.stats.requests.get('user.chats') ?? 0, 0, '"all" is every default service: not the protected chats API');
    const one = await suite.cli(['backup', '--tenant', 'contoso', '--service', 'chats', '--user', users[2]!.userPrincipalName, '--json'], t.password);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(chatsOutcomes(report(one.stdout)).map((o) => [o.upn, o.status]), [[users[2]!.userPrincipalName, 'complete']]);
  });

  test('with the setting on: a full backup, then the incremental is handed only the changes', async () => {
    const set = await suite.cli(['tenant', 'set', '--name', 'contoso', '--chats', 'on']);
    assert.equal(set.code, 0, set.stderr);
    assert.match((await suite.cli(['tenant', 'list'])).stdout, /chats on/);
    const first = await suite.cli(['backup', '--tenant', 'contoso', '--json'], t.password);
    assert.equal(first.code, 0, first.stderr);
    const full = chatsOutcomes(report(first.stdout));
    assert.equal(full.length, 4, 'every user: chats is per user');
    const u0 = full.find((o) => o.upn === users[0]!.userPrincipalName)!;
    assert.equal(u0.fetched, 3 + 60 + 1, '63 messages and one image (the two chats are metadata only)');
    assert.ok(full.every((o) => o.status === 'complete'));
    expectedA = new Map(users.map((u) => [u.id, expectedChats([oneOnOne, group], u)]));
    await new Promise((r) => setTimeout(r, 20));
    pointA = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));

    const groupLines = [...group.messages.values()];
    chats.edit(oneOnOne, [...oneOnOne.messages.values()][0]!.id, '<p>hi there (edited)</p>');
    chats.post(group, { from: users[2]!.id, html: '<p>new with <b>image</b></p>', images: [IMAGE_B] });
    chats.delete(group, groupLines[5]!.id);
    suite.sim.resetStats();
    chatsOf(t.tenant).served = 0;
    const second = await suite.cli(['backup', '--tenant', 'contoso', '--json'], t.password);
    assert.equal(second.code, 0, second.stderr);
    // The edit reaches the 1:1 chat's two members; the new and the deleted message the group's three.
    assert.equal(chatsOf(t.tenant).served, 2 * 1 + 3 * 2, 'only the changed messages were listed');
    const inc = chatsOutcomes(report(second.stdout));
    const by = (i: number) => inc.find((o) => o.upn === users[i]!.userPrincipalName)!;
    assert.deepEqual([by(0).fetched, by(0).removed], [1 + 1 + 1, 1], 'user 0: the edit, the new message and its image; the deletion');
    assert.deepEqual([by(1).fetched, by(1).removed], [3, 1]);
    assert.deepEqual([by(2).fetched, by(2).removed], [2, 1], 'user 2 is not in the 1:1 chat');
    assert.deepEqual([by(3).fetched, by(3).removed], [0, 0]);
    assert.equal(suite.sim.stats.requests.get('chat.messages'), 2 + 2 + 1, 'one filtered request per chat and member (no full listing again)');
  });

  test('both points restore exactly: every message once, author, time, images byte-identical', async () => {
    const latest = join(suite.work, 'chats-latest');
    const r = await suite.cli(['restore', '--tenant', 'contoso', '--service', 'chats', latest], t.password);
    assert.equal(r.code, 0, r.stderr);
    for (const u of users.slice(0, 3)) checkRestore(latest, u, expectedChats([oneOnOne, group], u));
    const early = join(suite.work, 'chats-a');
    const a = await suite.cli(['restore', '--tenant', 'contoso', '--service', 'chats', '--at', pointA, early], t.password);
    assert.equal(a.code, 0, a.stderr);
    for (const u of users.slice(0, 3)) checkRestore(early, u, expectedA.get(u.id)!);
    const html = readFileSync(join(early, users[0]!.userPrincipalName, 'Chats', `${users[0]!.displayName}, ${users[1]!.displayName}`.split(', ').sort().join(', '), 'transcript.html'), 'utf8');
    assert.ok(html.includes('hi there') && !html.includes('(edited)'), 'point A has the message before its edit');
  });

  test('a user whose chats Graph refuses (403) is a listed failure, not a failed run', async () => {
    chatsOf(t.tenant).denied.add(users[3]!.id);
    const r = await suite.cli(['backup', '--tenant', 'contoso', '--service', 'chats', '--json'], t.password);
    const rep = report(r.stdout);
    const denied = chatsOutcomes(rep).find((o) => o.upn === users[3]!.userPrincipalName)!;
    assert.equal(denied.failures.length, 1);
    assert.match(denied.failures[0]!.reason, /Chat\.Read\.All/);
    assert.ok(chatsOutcomes(rep).filter((o) => o.upn !== users[3]!.userPrincipalName).every((o) => o.status === 'complete' && o.failures.length === 0), 'the others complete');
    assert.equal(rep.status, 'partial');
  });
});
