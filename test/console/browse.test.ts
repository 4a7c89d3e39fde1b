import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deletedMessageHistory, signIn, startConsoleSuite, zipEntries, type ConsoleSuite } from './consoleSuite';
import { itemFileName, safeName } from '../../shared/restore/m365/naming';
import { AppServices } from '../../shared/app/services';
import { loadSettings } from '../../shared/config';
import { BROWSE_IDLE_MS, BROWSE_MAX_MS, createBrowseSession, openBrowseSession } from '../../shared/repo';
import { isBackupError } from '../../shared/errors';

type Who = 'admin' | 'operator' | 'self' | 'none' | 'anonymous';
const WHO: Who[] = ['admin', 'operator', 'self', 'none', 'anonymous'];

/**
 * Browse sessions, browse, search, preview, console restores and the audit log through the HTTP
 * API, behind App Service Authentication with real sign-ins. The history: the suite's nightly run,
 * then a backup with one more message, then one after that message was deleted.
 */
describe('browse sessions, browse, search, preview and console restores (API_AUTH=entra)', () => {
  let c: ConsoleSuite;
  const sessions = new Map<Who, { cookie: string; csrf: string }>();
  let owner: string;
  let other: string;
  let adminSession: string;
  let selfSession: string;
  let deletedId: string;
  /** The snapshot (of the owner's mail) that still holds the deleted message. */
  let earlier: { snapshot: number; time: string };

  const call = async (who: Who, path: string, o: { method?: string; body?: unknown } = {}) => {
    const s = sessions.get(who)!;
    const headers: Record<string, string> = {};
    if (s.cookie) headers.cookie = s.cookie;
    if (o.method && o.method !== 'GET' && s.csrf) headers['x-csrf-token'] = s.csrf;
    const res = await fetch(`${c.host.origin}${path}`, { method: o.method ?? 'GET', headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = { text };
    }
    return { status: res.status, body, headers: res.headers };
  };
  const matrix = async (path: string, want: Record<Who, number>, o: { method?: string; body?: unknown } = {}) => {
    const got: Record<string, number> = {};
    for (const w of WHO) got[w] = (await call(w, path, o)).status;
    assert.deepEqual(got, want, `${o.method ?? 'GET'} ${path}`);
  };
  /** A restore keeps running after its zip is written (to delete it when the link ends): done is "Completed" in its status. */
  const restored = async (session: string, id: string, who: Who = 'admin') => {
    for (let i = 0; i < 600; i++) {
      const r = await call(who, `/api/browse/sessions/${session}/restores/${id}`);
      if (r.status !== 200 || ['Completed', 'Failed', 'Terminated'].includes(String(r.body.runtimeStatus))) return r;
      await new Promise((res) => setTimeout(res, 250));
    }
    throw new Error(`restore ${id} did not finish`);
  };
  const q = (p: Record<string, string>) => new URLSearchParams(p).toString();
  type Listed = { folders: { id: string; name: string; parent?: string }[]; items: { id: string; type: string; name: string }[] };
  const list = async (user: string, service: string, folder?: string) => (await call('admin', `/api/browse/sessions/${adminSession}/items?${q({ user, service, ...(folder ? { folder } : {}) })}`)).body as unknown as Listed;
  /** The user's backed-up messages, folder by folder (the generator spreads them). */
  const mailOf = async (user: string) => {
    const out: Listed['items'] = [];
    for (const f of (await list(user, 'mail')).folders) out.push(...(await list(user, 'mail', f.id)).items.filter((i) => i.type === 'message' && i.name !== 'broken on the wire'));
    return out;
  };
  /** A backed-up file of the user's OneDrive (at the top or in a folder). */
  const fileOf = async (user: string) => {
    const top = await list(user, 'onedrive');
    let file = top.items.find((i) => i.type === 'file');
    for (const f of top.folders) file ??= (await list(user, 'onedrive', f.id)).items.find((i) => i.type === 'file');
    assert.ok(file, 'a backed-up file');
    return file;
  };

  before(async () => {
    c = await startConsoleSuite({ apiAuth: 'entra' });
    for (const w of ['admin', 'operator', 'self', 'none'] as const) sessions.set(w, await signIn(c.suite, c.host.origin, c.users[w]));
    sessions.set('anonymous', { cookie: '', csrf: '' });
    owner = c.users.self.username;
    other = [...c.contoso.tenant.users.values()].map((u) => u.user).find((u) => u.userPrincipalName !== owner && u.hasMailbox)!.userPrincipalName;
    deletedId = (await deletedMessageHistory(c)).id;
  });
  after(async () => c?.stop());

  test('opening a browse session: admins only, the password checked (401), never echoed; the id is bound to its opener', async () => {
    await matrix('/api/browse/sessions', { admin: 400, operator: 403, self: 403, none: 403, anonymous: 401 }, { method: 'POST', body: {} });
    const wrong = await call('admin', '/api/browse/sessions', { method: 'POST', body: { tenant: 'contoso', password: 'not-the-password' } });
    assert.equal(wrong.status, 401);
    assert.doesNotMatch(JSON.stringify(wrong.body), /not-the-password/);
    const opened = await call('admin', '/api/browse/sessions', { method: 'POST', body: { tenant: 'contoso', password: c.contoso.password } });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    assert.doesNotMatch(JSON.stringify(opened.body), new RegExp(c.contoso.password));
    adminSession = String(opened.body.id);
    assert.match(adminSession, /^contoso\.[0-9a-f]{32}$/);
    assert.equal(opened.body.idleMinutes, 15);
    const listed = await call('admin', '/api/browse/sessions?tenant=contoso');
    assert.ok((listed.body.sessions as { id: string }[]).some((s) => s.id === adminSession));
    // Every browse call: the opener only; the others are refused before anything is read.
    const path = `/api/browse/sessions/${adminSession}/items?${q({ user: owner, service: 'mail' })}`;
    await matrix(path, { admin: 200, operator: 403, self: 403, none: 403, anonymous: 401 });
    await matrix(`/api/browse/sessions/${adminSession}/search?${q({ text: 'x' })}`, { admin: 200, operator: 403, self: 403, none: 403, anonymous: 401 });
    await matrix(`/api/browse/sessions/${adminSession}/preview?${q({ user: owner, service: 'mail', item: 'nosuch' })}`, { admin: 404, operator: 403, self: 403, none: 403, anonymous: 401 });
    await matrix('/api/browse/sessions', { admin: 200, operator: 403, self: 200, none: 403, anonymous: 401 });
    await matrix(`/api/browse/sessions/${adminSession}/content?${q({ user: owner, service: 'mail', item: 'nosuch' })}`, { admin: 404, operator: 403, self: 403, none: 403, anonymous: 401 });
    await matrix(`/api/browse/sessions/${adminSession}/restores/restore-contoso-nosuch`, { admin: 404, operator: 403, self: 403, none: 403, anonymous: 401 });
    assert.deepEqual((await call('self', '/api/browse/sessions?tenant=contoso')).body.sessions, []);
  });

  test("browse a user's mail at an earlier point in time: the deleted message is in that snapshot's Inbox, not in the newest", async () => {
    const latest = await call('admin', `/api/browse/sessions/${adminSession}/items?${q({ user: owner, service: 'mail' })}`);
    const timeline = latest.body.timeline as { snapshot: number; time: string }[];
    assert.ok(timeline.length >= 3, JSON.stringify(timeline));
    earlier = timeline.at(-2)!;
    const inbox = (latest.body.folders as { id: string; name: string }[]).find((f) => f.name === 'Inbox')!;
    assert.ok(inbox, 'the mail folders are listed');
    const now = await call('admin', `/api/browse/sessions/${adminSession}/items?${q({ user: owner, service: 'mail', folder: inbox.id })}`);
    assert.ok(!(now.body.items as { id: string }[]).some((i) => i.id === deletedId));
    const then = await call('admin', `/api/browse/sessions/${adminSession}/items?${q({ user: owner, service: 'mail', folder: inbox.id, snapshot: earlier.time })}`);
    assert.equal(then.status, 200, JSON.stringify(then.body));
    assert.equal(then.body.snapshot, earlier.snapshot);
    const item = (then.body.items as { id: string; name: string; sender: string; date: string; size: number }[]).find((i) => i.id === deletedId)!;
    assert.equal(item.name, 'Quarterly numbers');
    assert.match(item.sender, /carol@partner\.example/);
    assert.equal(item.date, '2026-10-15T09:30:00Z');
    assert.ok(item.size > 0);
  });

  test('search finds the deleted message by sender and date range across the history (not in the newest snapshot alone)', async () => {
    const base = { sender: 'carol@partner', from: '2026-10-15', to: '2026-10-15' };
    const hit = await call('admin', `/api/browse/sessions/${adminSession}/search?${q({ ...base, user: owner })}`);
    assert.equal(hit.status, 200, JSON.stringify(hit.body));
    const hits = hit.body.hits as { id: string; inLatest: boolean; snapshot: number; user: string; service: string }[];
    assert.deepEqual(hits.map((h) => [h.id, h.inLatest, h.snapshot, h.user, h.service]), [[deletedId, false, earlier.snapshot, owner, 'mail']]);
    const tenantWide = await call('admin', `/api/browse/sessions/${adminSession}/search?${q(base)}`);
    assert.deepEqual((tenantWide.body.hits as { id: string }[]).map((h) => h.id), [deletedId]);
    const latestOnly = await call('admin', `/api/browse/sessions/${adminSession}/search?${q({ ...base, history: 'false' })}`);
    assert.deepEqual(latestOnly.body.hits, []);
    const wrongDay = await call('admin', `/api/browse/sessions/${adminSession}/search?${q({ ...base, from: '2026-10-16', to: '2026-10-20' })}`);
    assert.deepEqual(wrongDay.body.hits, []);
    assert.equal((await call('admin', `/api/browse/sessions/${adminSession}/search?${q({ text: 'quarterly', hasAttachments: 'false' })}`)).body.hits instanceof Array, true);
    assert.equal((await call('admin', `/api/browse/sessions/${adminSession}/search`)).status, 400, 'an empty query is refused');
    assert.equal((await call('admin', `/api/browse/sessions/${adminSession}/search?${q({ from: 'soon' })}`)).status, 400);
  });

  test('preview: fields and text as JSON; the message as a sanitised document served sandboxed (no script survives)', async () => {
    const p = { user: owner, service: 'mail', snapshot: String(earlier.snapshot), item: deletedId };
    const preview = await call('admin', `/api/browse/sessions/${adminSession}/preview?${q(p)}`);
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    assert.equal(preview.body.kind, 'mail');
    const fields = Object.fromEntries((preview.body.fields as { label: string; value: string }[]).map((f) => [f.label, f.value]));
    assert.equal(fields.Subject, 'Quarterly numbers');
    assert.match(fields.From!, /carol@partner\.example/);
    assert.match(String(preview.body.text), /Revenue <script>alert\(1\)<\/script> up 4%/);
    const content = await call('admin', `/api/browse/sessions/${adminSession}/content?${q(p)}`);
    assert.equal(content.status, 200);
    assert.match(content.headers.get('content-type') ?? '', /text\/html/);
    assert.match(content.headers.get('content-security-policy') ?? '', /^sandbox; default-src 'none'/);
    const html = String(content.body.text);
    assert.match(html, /Revenue &lt;script&gt;alert\(1\)&lt;\/script&gt; up 4%/);
    assert.doesNotMatch(html, /<script/i);
  });

  test('self-service: an admin opens a session for one user; that user sees only their own data (403 for another user or the tenant)', async () => {
    const opened = await call('admin', '/api/browse/sessions', { method: 'POST', body: { tenant: 'contoso', password: c.contoso.password, forUser: owner } });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    selfSession = String(opened.body.id);
    const mine = await call('self', '/api/browse/sessions?tenant=contoso');
    assert.deepEqual((mine.body.sessions as { id: string; forMe: boolean }[]).map((s) => [s.id, s.forMe]), [[selfSession, true]]);
    assert.equal((await call('self', `/api/browse/sessions/${selfSession}/items?${q({ user: owner, service: 'mail' })}`)).status, 200);
    const refused = await call('self', `/api/browse/sessions/${selfSession}/items?${q({ user: other, service: 'mail' })}`);
    assert.equal(refused.status, 403);
    assert.equal((refused.body.error as { code: string }).code, 'FORBIDDEN');
    assert.equal((await call('self', `/api/browse/sessions/${selfSession}/search?${q({ sender: 'carol' })}`)).status, 403, 'a tenant-wide search');
    assert.equal((await call('self', `/api/browse/sessions/${selfSession}/search?${q({ sender: 'carol', user: other })}`)).status, 403);
    const own = await call('self', `/api/browse/sessions/${selfSession}/search?${q({ sender: 'carol', user: owner })}`);
    assert.deepEqual((own.body.hits as { id: string }[]).map((h) => h.id), [deletedId]);
    assert.equal((await call('self', `/api/browse/sessions/${selfSession}/preview?${q({ user: other, service: 'mail', item: 'x' })}`)).status, 403);
    assert.equal((await call('self', `/api/browse/sessions/${selfSession}/restores`, { method: 'POST', body: { user: other, services: ['mail'] } })).status, 403);
    assert.equal((await call('self', `/api/browse/sessions/${adminSession}/items?${q({ user: owner, service: 'mail' })}`)).status, 403, "the admin's own session");
    assert.equal((await call('operator', `/api/browse/sessions/${selfSession}/items?${q({ user: owner, service: 'mail' })}`)).status, 403);
  });

  test('restore from a session to a zip download: 202, progress, the report; the audit log names who, what, when and where to', async () => {
    await matrix(`/api/browse/sessions/${adminSession}/restores`, { admin: 400, operator: 403, self: 403, none: 403, anonymous: 401 }, { method: 'POST', body: { conflict: 'sometimes' } });
    const started = await call('admin', `/api/browse/sessions/${adminSession}/restores`, { method: 'POST', body: { user: owner, services: ['mail'], at: earlier.time } });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const id = String(started.body.id);
    const done = await restored(adminSession, id);
    assert.equal(done.body.runtimeStatus, 'Completed', JSON.stringify(done.body));
    assert.ok(Number(done.body.files) > 0);
    assert.match(String(done.body.downloadUrl), /^https?:/);
    // The self-service user restores their own mail too, and sees its status; not the admin's restore.
    const mine = await call('self', `/api/browse/sessions/${selfSession}/restores`, { method: 'POST', body: { user: owner, services: ['contacts'] } });
    assert.equal(mine.status, 202, JSON.stringify(mine.body));
    assert.equal((await restored(selfSession, String(mine.body.id), 'self')).body.runtimeStatus, 'Completed');
    const others = await call('admin', `/api/browse/sessions/${adminSession}/restores`, { method: 'POST', body: { user: other, services: ['contacts'] } });
    assert.equal(others.status, 202);
    assert.equal((await call('self', `/api/browse/sessions/${selfSession}/restores/${String(others.body.id)}`)).status, 404, "another user's restore");
    await matrix('/api/audit?tenant=contoso', { admin: 200, operator: 403, self: 403, none: 403, anonymous: 401 });
    const audit = (await call('admin', '/api/audit?tenant=contoso')).body.entries as { who: string; restoreId: string; what: { user: string; services: string[]; at?: string }; where: { kind: string }; time: string }[];
    assert.deepEqual(audit.map((e) => [e.restoreId, e.who, e.what.user, e.where.kind]), [
      [String(others.body.id), c.users.admin.username, other, 'folder'],
      [String(mine.body.id), owner, owner, 'folder'],
      [id, c.users.admin.username, owner, 'folder'],
    ]);
    assert.equal(audit[2]!.what.at, new Date(earlier.time).toISOString());
    assert.ok(Date.parse(audit[1]!.time) >= Date.parse(audit[2]!.time));
  });

  test('download (zip) of selected items: two messages and one file are exactly its files, byte-identical, at their paths; a folder brings its subtree; an unknown id is 404 before anything starts', async () => {
    const sim = [...c.contoso.tenant.users.values()].find((u) => u.user.userPrincipalName === other)!;
    const messages = (await mailOf(other)).slice(0, 2);
    assert.equal(messages.length, 2);
    const file = await fileOf(other);
    const top = safeName(other);
    const expected = new Map<string, Buffer>();
    for (const m of messages) {
      const s = sim.mailbox.messages.get(m.id)!;
      expected.set(`${top}/Mail/${c.contoso.editor.mailFolderPath(sim.user.id, s.folderId)}/${itemFileName(s.subject, s.id, 'eml')}`, Buffer.from(s.mime));
    }
    expected.set(`${top}/OneDrive/${c.contoso.editor.drivePath(sim.user.id, file.id)}`, Buffer.from(sim.drive.get(file.id)!.content ?? Buffer.alloc(0)));
    const zipOf = async (path: string, body: Record<string, unknown>, who: Who = 'admin') => {
      const started = await call(who, path, { method: 'POST', body });
      assert.equal(started.status, 202, JSON.stringify(started.body));
      let status: Record<string, unknown> = {};
      for (let i = 0; i < 600 && !['Completed', 'Failed'].includes(String(status.runtimeStatus)); i++) {
        await new Promise((res) => setTimeout(res, 250));
        status = (await call(who, new URL(String(started.body.statusUri)).pathname)).body;
      }
      assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status));
      const zip = await fetch(String(status.downloadUrl));
      assert.equal(zip.status, 200);
      return { status, id: String(started.body.id), entries: await zipEntries(Buffer.from(await zip.arrayBuffer())) };
    };
    const contentFiles = (entries: Map<string, Buffer>) => new Map([...entries].filter(([name]) => !name.endsWith('/') && !name.endsWith('/_items.json')));
    const items = [messages[0]!.id, messages[1]!.id, file.id];

    // Through the browse session (the console's "Download zip"), no destination: a zip.
    const viaSession = await zipOf(`/api/browse/sessions/${adminSession}/restores`, { user: other, items });
    assert.deepEqual([...contentFiles(viaSession.entries).keys()].sort(), [...expected.keys()].sort(), 'exactly the selected files');
    for (const [name, data] of expected) assert.ok(viaSession.entries.get(name)!.equals(data), `${name} is byte-identical`);
    assert.deepEqual([viaSession.status.files, viaSession.status.failureCount], [3, 0], JSON.stringify(viaSession.status));
    // _items.json holds the selected records and the folders above them, nothing else.
    const mailRecords = JSON.parse(viaSession.entries.get(`${top}/Mail/_items.json`)!.toString('utf8')) as { id: string; type: string }[];
    assert.deepEqual(mailRecords.filter((r) => r.type !== 'folder').map((r) => r.id).sort(), messages.map((m) => m.id).sort());
    const driveRecords = JSON.parse(viaSession.entries.get(`${top}/OneDrive/_items.json`)!.toString('utf8')) as { id: string; type: string }[];
    assert.deepEqual(driveRecords.filter((r) => r.type !== 'folder').map((r) => r.id), [file.id]);
    const audit = (await call('admin', '/api/audit?tenant=contoso')).body.entries as { restoreId: string; what: { items?: string[] }; where: { kind: string } }[];
    assert.deepEqual([audit[0]!.restoreId, audit[0]!.what.items, audit[0]!.where], [viaSession.id, items, { kind: 'folder' }]);

    // Through POST /api/restores (an operator, with the password), destination folder: the same files.
    const viaApi = await zipOf('/api/restores', { tenant: 'contoso', password: c.contoso.password, user: other, items, destination: { kind: 'folder' } }, 'operator');
    assert.deepEqual([...contentFiles(viaApi.entries)].map(([n, d]) => [n, d.toString('base64')]).sort(), [...contentFiles(viaSession.entries)].map(([n, d]) => [n, d.toString('base64')]).sort());

    // A mail folder selected: every message under it (its subfolders too), and no other.
    const tree = await list(other, 'mail');
    const under = (id: string): string[] => [id, ...tree.folders.filter((f) => f.parent === id).flatMap((f) => under(f.id))];
    const held = new Map<string, string[]>();
    for (const f of tree.folders) held.set(f.id, (await list(other, 'mail', f.id)).items.filter((i) => i.type === 'message').map((i) => i.id));
    const folder = tree.folders.find((f) => under(f.id).some((id) => held.get(id)!.length > 0))!;
    const wanted = under(folder.id).flatMap((id) => held.get(id)!);
    const folderZip = await zipOf(`/api/browse/sessions/${adminSession}/restores`, { user: other, items: [folder.id], destination: { kind: 'folder' } });
    const emls = [...contentFiles(folderZip.entries).keys()].filter((n) => n.endsWith('.eml'));
    assert.equal(emls.length, wanted.length, emls.join(', '));
    const folderRecords = JSON.parse(folderZip.entries.get(`${top}/Mail/_items.json`)!.toString('utf8')) as { id: string; type: string }[];
    assert.deepEqual(folderRecords.filter((r) => r.type === 'message').map((r) => r.id).sort(), [...wanted].sort());

    // An id not in the backup: 404 naming it, nothing started.
    const unknown = await call('admin', `/api/browse/sessions/${adminSession}/restores`, { method: 'POST', body: { user: other, items: [file.id, 'no-such-item'] } });
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
    assert.match((unknown.body.error as { message: string }).message, /1 selected item\(s\) are not in the backup of .*"no-such-item"/);
    assert.equal(((await call('admin', '/api/audit?tenant=contoso')).body.entries as { restoreId: string }[])[0]!.restoreId, folderZip.id, 'no audit entry: nothing started');
  });

  test('restore in place from a session (destination, conflict: the restore engine of h-restore)', async () => {
    const started = await call('admin', `/api/browse/sessions/${adminSession}/restores`, { method: 'POST', body: { user: owner, services: ['mail'], at: earlier.time, destination: { kind: 'in-place' }, conflict: 'skip' } });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const done = await restored(adminSession, String(started.body.id));
    assert.ok((done.body.counts as { restored: number }).restored >= 1);
  });

  test('restore selected items (two messages, one file) in place with conflict rename: only those are written, beside the originals; a selected folder brings its tree (here into another user); a bad selection is a 4xx before anything starts', async () => {
    // Another user's items, never restored before (the restore map would skip what an earlier restore wrote).
    const messages = (await mailOf(other)).slice(0, 2);
    assert.equal(messages.length, 2);
    const file = await fileOf(other);
    const sim = [...c.contoso.tenant.users.values()].find((u) => u.user.userPrincipalName === other)!;
    const copies = (subject: string) => [...sim.mailbox.messages.values()].filter((m) => m.subject === subject).length;
    const files = () => [...sim.drive.values()].filter((d) => !d.folder).length;
    const before = { messages: messages.map((m) => copies(m.name)), mail: sim.mailbox.messages.size, drive: files() };
    const items = [messages[0]!.id, messages[1]!.id, file.id];
    const body = { user: other, items, destination: { kind: 'in-place' }, conflict: 'rename' };

    // Bad selections: 400 with the reason, or 404 naming the id that is not in the backup; nothing starts.
    const ownPath = `/api/browse/sessions/${selfSession}/restores`;
    const own = { user: owner, items: [(await mailOf(owner))[0]!.id], destination: { kind: 'in-place' }, conflict: 'skip' };
    const bad = async (b: unknown, status: number, message: RegExp) => {
      const r = await call('self', ownPath, { method: 'POST', body: b });
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.match((r.body.error as { message: string }).message, message);
    };
    await bad({ ...own, items: [] }, 400, /"items" must be a list of 1 to 1000/);
    await bad({ ...own, items: 'x' }, 400, /"items" must be a list/);
    await bad({ ...own, items: [7] }, 400, /"items" must be a list/);
    await bad({ user: owner, items: own.items, conflict: 'skip' }, 400, /"path" and "conflict" go with a destination of kind "in-place" or "user"/);
    await bad({ ...own, path: 'Inbox' }, 400, /"items" or "path", not both/);
    await bad({ ...own, items: [...own.items, 'no-such-item'] }, 404, /1 selected item\(s\) are not in the backup of .*"no-such-item"/);
    // SelfService: their own items only. Another user's ids under their own name are not in their backup;
    // naming the other user, or restoring into another user, is refused.
    await bad({ ...own, items }, 404, /3 selected item\(s\) are not in the backup of/);
    const refused = await call('self', ownPath, { method: 'POST', body });
    assert.equal(refused.status, 403);
    assert.equal((refused.body.error as { code: string }).code, 'FORBIDDEN');
    assert.equal((await call('self', ownPath, { method: 'POST', body: { ...own, destination: { kind: 'user', user: other } } })).status, 403);
    await matrix('/api/restores', { admin: 400, operator: 400, self: 403, none: 403, anonymous: 401 }, { method: 'POST', body: { tenant: 'contoso', password: c.contoso.password, ...body, items: [] } });
    await matrix(`/api/browse/sessions/${adminSession}/restores`, { admin: 400, operator: 403, self: 403, none: 403, anonymous: 401 }, { method: 'POST', body: { ...body, items: [] } });
    assert.deepEqual([sim.mailbox.messages.size, files()], [before.mail, before.drive], 'nothing was written by a refused request');

    const started = await call('admin', `/api/browse/sessions/${adminSession}/restores`, { method: 'POST', body });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const done = await restored(adminSession, String(started.body.id));
    assert.equal(done.body.runtimeStatus, 'Completed', JSON.stringify(done.body));
    const counts = done.body.counts as { restored: number; skipped: number; renamed: number; failed: number };
    assert.equal(counts.renamed, 3, JSON.stringify(done.body));
    assert.equal(counts.failed, 0, JSON.stringify(done.body.failures));
    assert.equal(counts.restored, 0, 'the folders above them were there: found, not made');
    // At the simulator: one more copy of each selected message, one more file, nothing else.
    assert.deepEqual(messages.map((m) => copies(m.name)), before.messages.map((n) => n + 1));
    assert.equal(sim.mailbox.messages.size, before.mail + 2);
    assert.equal(files(), before.drive + 1);
    const audit = (await call('admin', '/api/audit?tenant=contoso')).body.entries as { who: string; restoreId: string; what: { items?: string[] }; where: { kind: string; conflict?: string } }[];
    assert.deepEqual([audit[0]!.restoreId, audit[0]!.who, audit[0]!.what.items, audit[0]!.where], [String(started.body.id), c.users.admin.username, items, { kind: 'in-place', conflict: 'rename' }]);

    // The self-service user restores a selection of their own (skip: the message is there, and so is its folder).
    const mine = await call('self', ownPath, { method: 'POST', body: own });
    assert.equal(mine.status, 202, JSON.stringify(mine.body));
    const mineDone = await restored(selfSession, String(mine.body.id), 'self');
    const mineCounts = mineDone.body.counts as typeof counts;
    assert.deepEqual([mineCounts.restored, mineCounts.renamed, mineCounts.failed], [0, 0, 0], JSON.stringify(mineDone.body));
    assert.ok(mineCounts.skipped >= 2, 'the message and the folders above it were there');

    // Backup.Operator restores a selection through POST /api/restores (with the password).
    const op = await call('operator', '/api/restores', { method: 'POST', body: { tenant: 'contoso', password: c.contoso.password, user: other, items: [messages[0]!.id], destination: { kind: 'in-place' }, conflict: 'skip' } });
    assert.equal(op.status, 202, JSON.stringify(op.body));
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 600 && !['Completed', 'Failed'].includes(String(status.runtimeStatus)); i++) {
      await new Promise((res) => setTimeout(res, 250));
      status = (await call('operator', `/api/restores/${String(op.body.id)}`)).body;
    }
    assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status));
    const opCounts = status.counts as typeof counts;
    assert.deepEqual([opCounts.restored, opCounts.renamed, opCounts.failed], [0, 0, 0], JSON.stringify(status));
    assert.ok(opCounts.skipped >= 2, 'the message (restored before: the restore map knows it) and its folders were there');
    assert.equal(sim.mailbox.messages.size, before.mail + 2);

    // A folder selected: everything under it, here into another user (under "Restored from <upn> <date>").
    type Tree = { folders: { id: string; name: string; parent?: string }[] };
    const tree = (await list(other, 'mail')) as unknown as Tree;
    const under = (id: string): string[] => [id, ...tree.folders.filter((f) => f.parent === id).flatMap((f) => under(f.id))];
    const held = new Map<string, number>();
    for (const f of tree.folders) held.set(f.id, (await list(other, 'mail', f.id)).items.filter((i) => i.type === 'message').length);
    const inbox = tree.folders.find((f) => under(f.id).some((id) => held.get(id)! > 0))!;
    const subtree = under(inbox.id);
    const expected = subtree.length + subtree.reduce((n, id) => n + held.get(id)!, 0);
    assert.ok(expected > subtree.length, 'the folder tree holds messages');
    const ownerSim = [...c.contoso.tenant.users.values()].find((u) => u.user.userPrincipalName === owner)!;
    const ownerMail = ownerSim.mailbox.messages.size;
    const toUser = await call('admin', `/api/browse/sessions/${adminSession}/restores`, { method: 'POST', body: { user: other, items: [inbox.id], destination: { kind: 'user', user: owner }, conflict: 'skip' } });
    assert.equal(toUser.status, 202, JSON.stringify(toUser.body));
    const toUserDone = await restored(adminSession, String(toUser.body.id));
    assert.deepEqual(toUserDone.body.counts, { restored: expected, skipped: 0, renamed: 0, failed: 0 }, JSON.stringify(toUserDone.body));
    assert.equal(ownerSim.mailbox.messages.size, ownerMail + expected - subtree.length, "the folder's messages, in the other user's mailbox");
    assert.equal(sim.mailbox.messages.size, before.mail + 2, 'nothing written into the source user');
  });

  test('a session ends after 15 idle minutes (each use slides it) and after 8 hours whatever happens; its row holds no password, name or key in the clear', async () => {
    const { repo } = await new AppServices(loadSettings(c.suite.processEnv())).tenant('contoso');
    const t0 = Date.now();
    const s = await createBrowseSession(repo, await repo.unlock(c.contoso.password), { owner: c.users.admin.username, forUser: owner }, t0);
    const gone = (e: unknown) => isBackupError(e, 'NOT_FOUND');
    const used = await openBrowseSession(repo, s.id, t0 + BROWSE_IDLE_MS - 60_000);
    assert.equal(used.forUser, owner);
    assert.equal(Date.parse(used.expires), t0 + 2 * BROWSE_IDLE_MS - 60_000, 'the use slid the idle expiry');
    await openBrowseSession(repo, s.id, t0 + 2 * BROWSE_IDLE_MS - 120_000);
    await assert.rejects(openBrowseSession(repo, s.id, t0 + 3 * BROWSE_IDLE_MS), gone, '15 minutes without use');
    const k = await createBrowseSession(repo, await repo.unlock(c.contoso.password), { owner: '' }, t0);
    let at = t0;
    while (at + BROWSE_IDLE_MS / 2 < t0 + BROWSE_MAX_MS) await openBrowseSession(repo, k.id, (at += BROWSE_IDLE_MS / 2));
    await assert.rejects(openBrowseSession(repo, k.id, t0 + BROWSE_MAX_MS + 1), gone, 'eight hours at most');
    const rows = JSON.stringify(await repo.tables.get(repo.layout.restoreTable, 'session', `browse-${s.id}`), (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
    for (const secret of [c.contoso.password, owner, c.users.admin.username]) assert.ok(!rows.includes(secret), `the session row holds ${secret}`);
  });

  test('closing a session ends it: its id opens nothing any more', async () => {
    await matrix(`/api/browse/sessions/contoso.${'0'.repeat(32)}`, { admin: 404, operator: 403, self: 404, none: 403, anonymous: 401 }, { method: 'DELETE' });
    assert.equal((await call('admin', `/api/browse/sessions/${adminSession}`, { method: 'DELETE' })).status, 204);
    assert.equal((await call('admin', `/api/browse/sessions/${adminSession}/items?${q({ user: owner, service: 'mail' })}`)).status, 404);
  });
});
