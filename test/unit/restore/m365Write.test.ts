import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimTenant } from '../../../simulator/tenant/model';
import { TenantEditor } from '../../../simulator/tenant/editor';
import { UploadSessions, FRAGMENT_MULTIPLE } from '../../../simulator/graph/uploadSessions';
import { matchWriteRoute, type WriteRouteContext } from '../../../simulator/graph/writeRoutes';
import type { SimRequest } from '../../../simulator/graph/http';
import { parsePathPrefix } from '../../../shared/restore/m365/write/writePlan';
import { summarizeMime } from '../../../shared/restore/m365/write/mimeParts';
import { contactBody } from '../../../shared/restore/m365/write/contactsWriter';
import { buildMime } from '../../../simulator/tenant/mime';
import { parseConflict } from '../../../shared/restore/m365/write/engine';

const ORIGIN = 'https://127.0.0.1:1';
const WRITE = ['Files.ReadWrite.All', 'Mail.ReadWrite', 'Contacts.ReadWrite'];

function setUp(roles = WRITE) {
  const tenant = new SimTenant('t1', 't1.example');
  const editor = new TenantEditor(tenant);
  const u = tenant.addUser({ userPrincipalName: 'a@t1.example', displayName: 'A', mail: 'a@t1.example', hasMailbox: true, hasDrive: true });
  editor.addMailFolder(u.user.id, null, 'Inbox', 'inbox');
  const uploads = new UploadSessions(() => ORIGIN);
  const ctx: WriteRouteContext = { origin: ORIGIN, floor: () => 0, floorOf: () => 0, downloadUrl: () => `${ORIGIN}/_download/x`, roles: () => roles, uploads };
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const req: SimRequest = { method, url: new URL(path, ORIGIN), headers: { authorization: 'Bearer x', ...headers }, body: Buffer.isBuffer(body) ? body : Buffer.from(body === undefined ? '' : JSON.stringify(body)) };
    const route = matchWriteRoute(req, tenant, ctx);
    assert.ok(route, `${method} ${path} is a write route`);
    return route.run();
  };
  return { tenant, editor, u, uploads, call };
}

test('upload sessions: fragments in order, multiples of 320 KiB but the last, 416 out of order, 401 with an Authorization header', () => {
  const { u, uploads, call } = setUp();
  const r = call('POST', `/v1.0/users/${u.user.id}/drive/root:/big.bin:/createUploadSession`, { item: { '@microsoft.graph.conflictBehavior': 'fail', fileSystemInfo: { lastModifiedDateTime: '2025-01-01T00:00:00.000Z' } } });
  assert.equal(r.status, 200);
  const url = new URL(String((r.json as { uploadUrl: string }).uploadUrl));
  const total = FRAGMENT_MULTIPLE * 2 + 1000;
  const data = Buffer.alloc(total, 7);
  const put = (first: number, last: number, headers: Record<string, string> = {}) =>
    uploads.handle({ method: 'PUT', url, headers: { 'content-range': `bytes ${first}-${last}/${total}`, ...headers }, body: data.subarray(first, last + 1) });
  assert.equal(put(0, FRAGMENT_MULTIPLE - 1, { authorization: 'Bearer t' }).status, 401);
  assert.equal(uploads.authorizationHeaders, 1);
  assert.equal(put(0, FRAGMENT_MULTIPLE - 2).status, 400, 'not a multiple of 320 KiB');
  assert.equal(put(FRAGMENT_MULTIPLE, 2 * FRAGMENT_MULTIPLE - 1).status, 416, 'out of order');
  assert.equal(put(0, FRAGMENT_MULTIPLE - 1).status, 202);
  assert.equal(put(FRAGMENT_MULTIPLE, 2 * FRAGMENT_MULTIPLE - 1).status, 202);
  const done = put(2 * FRAGMENT_MULTIPLE, total - 1);
  assert.equal(done.status, 201);
  const item = [...u.drive.values()].find((i) => i.name === 'big.bin')!;
  assert.ok(item.content!.equals(data));
  assert.equal(item.modified, '2025-01-01T00:00:00.000Z', 'fileSystemInfo of the session is kept');
});

test('attachment upload sessions: AttachmentItem with a size, fragments of at most 4 MB in order (416 otherwise), 200 until the last, whose 201 creates the attachment', () => {
  const { u, tenant, uploads, call } = setUp();
  const box = `/v1.0/users/${u.user.id}`;
  const made = call('POST', `${box}/mailFolders/inbox/messages`, { subject: 'big', body: { content: 'x' }, singleValueExtendedProperties: [{ id: 'Integer 0x0E07', value: '0' }] });
  const id = (made.json as { id: string }).id;
  const data = Buffer.alloc(5 * 1024 * 1024 + 17, 9);
  assert.equal(call('POST', `${box}/messages/${id}/attachments/createUploadSession`, { AttachmentItem: { attachmentType: 'file', name: 'big.bin' } }).status, 400, 'no size');
  assert.equal(call('POST', `${box}/messages/nope/attachments/createUploadSession`, { AttachmentItem: { attachmentType: 'file', name: 'big.bin', size: data.length } }).status, 404);
  const r = call('POST', `${box}/messages/${id}/attachments/createUploadSession`, { AttachmentItem: { attachmentType: 'file', name: 'big.bin', size: data.length, contentType: 'application/octet-stream' } });
  assert.equal(r.status, 201);
  const session = r.json as { uploadUrl: string; nextExpectedRanges: string[] };
  assert.deepEqual(session.nextExpectedRanges, ['0'], 'Outlook sessions give the next start, not a range');
  const url = new URL(session.uploadUrl);
  const mib4 = 4 * 1024 * 1024;
  const put = (first: number, last: number, total = data.length, headers: Record<string, string> = {}) =>
    uploads.handle({ method: 'PUT', url, headers: { 'content-range': `bytes ${first}-${last}/${total}`, ...headers }, body: data.subarray(first, last + 1) });
  assert.equal(put(0, mib4 - 1, data.length, { authorization: 'Bearer t' }).status, 401, 'no Authorization header on the upload URL');
  assert.equal(put(0, mib4).status, 413, 'a fragment is at most 4 MB');
  assert.equal(put(0, 99, data.length + 1).status, 400, 'the total is the AttachmentItem size');
  const early = put(100, 199);
  assert.equal(early.status, 416, 'not at the next expected byte');
  assert.deepEqual((early.json as { nextExpectedRanges: string[] }).nextExpectedRanges, ['0']);
  const first = put(0, mib4 - 1);
  assert.equal(first.status, 200);
  assert.deepEqual((first.json as { nextExpectedRanges: string[] }).nextExpectedRanges, [String(mib4)]);
  assert.equal(put(0, 99).status, 416, 'a fragment sent twice');
  const m = tenant.user(u.user.id).mailbox.messages.get(id)!;
  assert.equal(m.hasAttachments, false, 'nothing is attached before the last fragment');
  const done = put(mib4, data.length - 1);
  assert.equal(done.status, 201);
  assert.match(done.headers?.Location ?? '', new RegExp(`/messages/${id}/attachments/`));
  assert.equal(m.hasAttachments, true);
  assert.ok(summarizeMime(m.mime).attachments[0]!.data.equals(data), 'the attachment is byte-identical');
  assert.equal(m.isDraft, false);
});

test('contact folders: /contactFolders lists the top folders, childFolders a folder\'s children; names unique among siblings', () => {
  const { u, call } = setUp();
  const box = `/v1.0/users/${u.user.id}/contactFolders`;
  const top = call('POST', box, { displayName: 'Clients' });
  assert.equal(top.status, 201);
  const clients = (top.json as { id: string }).id;
  const child = call('POST', `${box}/${clients}/childFolders`, { displayName: 'Europe' });
  assert.equal(child.status, 201);
  assert.equal((child.json as { parentFolderId: string }).parentFolderId, clients);
  assert.equal(call('POST', `${box}/${clients}/childFolders`, { displayName: 'europe' }).status, 409, 'ErrorFolderExists among siblings');
  assert.equal(call('POST', box, { displayName: 'Europe' }).status, 201, 'the same name at another level is another folder');
  assert.equal(call('POST', `${box}/nope/childFolders`, { displayName: 'X' }).status, 404);
  const filter = (path: string) => ((call('GET', `${path}?$filter=${encodeURIComponent("displayName eq 'Europe'")}`).json as { value: { parentFolderId: string }[] }).value);
  assert.deepEqual(filter(`${box}/${clients}/childFolders`).map((f) => f.parentFolderId), [clients], 'a child folder found under its parent only');
  assert.equal(filter(box).length, 1, 'the top Europe only');
});

test('conflictBehavior: fail answers 409 nameAlreadyExists, rename writes "name 1.ext", replace keeps the id', () => {
  const { u, editor, call } = setUp();
  const f = editor.addFile(u.user.id, 'Docs/a.txt', Buffer.from('old'));
  const parent = f.parentId!;
  const put = (behavior: string, content: string) => call('PUT', `/v1.0/users/${u.user.id}/drive/items/${parent}:/a.txt:/content?@microsoft.graph.conflictBehavior=${behavior}`, Buffer.from(content));
  assert.equal(put('fail', 'x').status, 409);
  assert.equal((put('fail', 'x').json as { error: { code: string } }).error.code, 'nameAlreadyExists');
  assert.equal(put('rename', 'new').status, 201);
  assert.equal(editor.driveItem(u.user.id, 'Docs/a 1.txt').content!.toString(), 'new');
  assert.equal(put('replace', 'replaced').status, 200);
  assert.equal(editor.driveItem(u.user.id, 'Docs/a.txt').id, f.id);
  assert.equal(editor.driveItem(u.user.id, 'Docs/a.txt').content!.toString(), 'replaced');
  const folder = call('POST', `/v1.0/users/${u.user.id}/drive/root/children`, { name: 'Docs', folder: {}, '@microsoft.graph.conflictBehavior': 'fail' });
  assert.equal(folder.status, 409);
});

test('messages: JSON without PidTagMessageFlags is a draft, with it (no unsent bit) not; importMime keeps the MIME and is never a draft', () => {
  const { u, tenant, call } = setUp([...WRITE, 'Mail-Advanced.ReadWrite.All']);
  const box = `/v1.0/users/${u.user.id}/mailFolders/inbox`;
  const draft = call('POST', `${box}/messages`, { subject: 'd', body: { content: 'x' } });
  assert.equal((draft.json as { isDraft: boolean }).isDraft, true);
  const sent = call('POST', `${box}/messages`, { subject: 'n', body: { content: 'x' }, singleValueExtendedProperties: [{ id: 'Integer 0x0E07', value: '1' }, { id: 'SystemTime 0x0E06', value: '2025-01-02T03:04:05.000Z' }] });
  assert.equal((sent.json as { isDraft: boolean; isRead: boolean }).isDraft, false);
  assert.equal((sent.json as { receivedDateTime: string }).receivedDateTime, '2025-01-02T03:04:05.000Z');
  const mime = buildMime({ messageId: 'm1@x', subject: 'Grüße', from: { name: 'P', address: 'p@x' }, to: [], date: '2025-03-01T00:00:00.000Z', text: 'hi', attachments: [{ name: 'a.bin', contentType: 'application/octet-stream', data: Buffer.from([1, 2, 3]) }] });
  const imported = call('POST', `/beta/users/${u.user.id}/mailFolders/inbox/importMime`, { mimeContent: mime.toString('base64') });
  assert.equal(imported.status, 201);
  const m = tenant.user(u.user.id).mailbox.messages.get((imported.json as { id: string }).id)!;
  assert.ok(m.mime.equals(mime));
  assert.equal(m.isDraft, false);
  assert.equal(m.subject, 'Grüße');
  assert.equal(call('POST', `${box}/childFolders`, { displayName: 'X' }).status, 201);
  assert.equal(call('POST', `${box}/childFolders`, { displayName: 'x' }).status, 409, 'ErrorFolderExists (names compared case-insensitively)');
});

test('a token without the write role gets 403; importMime also needs Mail-Advanced.ReadWrite.All', () => {
  const read = setUp(['Files.Read.All', 'Mail.Read', 'Contacts.Read']);
  assert.equal(read.call('PUT', `/v1.0/users/${read.u.user.id}/drive/root:/x.txt:/content`, Buffer.from('x')).status, 403);
  assert.equal(read.call('POST', `/v1.0/users/${read.u.user.id}/contacts`, { displayName: 'c' }).status, 403);
  const noAdvanced = setUp(WRITE);
  assert.equal(noAdvanced.call('POST', `/beta/users/${noAdvanced.u.user.id}/mailFolders/inbox/importMime`, { mimeContent: 'eA==' }).status, 403);
  assert.equal(read.tenant.user(read.u.user.id).drive.size, 1, 'nothing written (the root only)');
});

test('--path: folder names separated by "/"; malformed ones are refused in one sentence', () => {
  assert.deepEqual(parsePathPrefix('Inbox/Projects'), ['Inbox', 'Projects']);
  assert.deepEqual(parsePathPrefix('/Documents/2026/'), ['Documents', '2026']);
  assert.equal(parsePathPrefix(undefined), undefined);
  for (const bad of ['', '/', 'a//b', 'a/../b', 'a\\b', 'a/./b', 'a/\u0001'])
    assert.throws(() => parsePathPrefix(bad), (e: Error) => /is not a folder path/.test(e.message), JSON.stringify(bad));
  assert.equal(parseConflict(undefined), 'skip');
  assert.throws(() => parseConflict('overwrite'), /skip, rename, replace/);
});

test('the JSON fallback reads the MIME body and attachments; contacts drop what Graph sets itself', () => {
  const mime = buildMime({ messageId: 'm@x', subject: 's', from: { name: 'a', address: 'a@x' }, to: [], date: '2025-01-01T00:00:00.000Z', text: 'Hällo ✓', attachments: [{ name: 'r.pdf', contentType: 'application/pdf', data: Buffer.from('PDFDATA') }] });
  const s = summarizeMime(mime);
  assert.deepEqual(s.body, { contentType: 'text', content: 'Hällo ✓' });
  assert.equal(s.attachments.length, 1);
  assert.equal(s.attachments[0]!.name, 'r.pdf');
  assert.equal(s.attachments[0]!.data.toString(), 'PDFDATA');
  assert.deepEqual(contactBody({ id: '1', '@odata.etag': 'x', changeKey: 'k', parentFolderId: 'p', displayName: 'D', emailAddresses: [] }), { displayName: 'D', emailAddresses: [] });
});
