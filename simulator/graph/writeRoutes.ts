import type { SimContact, SimContactFolder, SimDriveItem, SimMessage, SimTenant, SimUserData } from '../tenant/model';
import { contactScope } from '../tenant/model';
import { buildMime } from '../tenant/mime';
import { graphError, json, type SimRequest, type SimResponse } from './http';
import type { RouteContext, RouteMatch } from './routes';
import { contactFolderJson, contactJson, driveItemJson, mailFolderJson, messageJson } from './shapes';
import { matchMailboxConfigWriteRoute } from './mailboxConfigRoutes';
import { ATTACHMENT_RULES, type UploadSessions } from './uploadSessions';
import { matchSiteWriteRoute } from './siteWriteRoutes';

export interface WriteRouteContext extends RouteContext {
  /** The application permissions of the request's token. */
  roles(authorization: string | undefined): string[];
  uploads: UploadSessions;
}

const FILES_WRITE = ['Files.ReadWrite.All', 'Sites.ReadWrite.All'];
const MAIL_WRITE = ['Mail.ReadWrite'];
const CONTACTS_WRITE = ['Contacts.ReadWrite'];
const IMPORT_MIME = 'Mail-Advanced.ReadWrite.All';
/** The largest attachment an upload session takes (Graph: 150 MB). */
const MAX_ATTACHMENT_SESSION = 150 * 1024 * 1024;
/** PidTagMessageFlags' unsent bit: a message created with it (or without the property) is a draft. */
const MSGFLAG_UNSENT = 0x8;

const denied = () => graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
const itemNotFound = () => graphError(404, 'itemNotFound', 'The resource could not be found.');
const notFound = (what: string) => graphError(404, 'ErrorItemNotFound', `The specified object was not found in the store. (${what})`);
const noMailbox = () => graphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');

function body(req: SimRequest): Record<string, unknown> {
  try {
    const v = JSON.parse(req.body.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** `displayName eq 'x'` / `internetMessageId eq 'x'` of a $filter (the only filters the restore uses). */
function eqFilter(req: SimRequest, property: string): string | undefined {
  const f = req.url.searchParams.get('$filter');
  const m = f ? new RegExp(`^${property} eq '((?:[^']|'')*)'$`).exec(f.trim()) : null;
  return m ? m[1]!.replace(/''/g, "'") : undefined;
}

/** "report.docx" taken: "report 1.docx", "report 2.docx", ... (OneDrive's rename). */
function freeName(taken: (n: string) => boolean, name: string): string {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let i = 1; ; i++) if (!taken(`${stem} ${i}${ext}`)) return `${stem} ${i}${ext}`;
}

/** Header value of a MIME message (unfolded; RFC 2047 base64 words decoded). */
function mimeHeader(mime: Buffer, name: string): string | undefined {
  const head = mime.toString('latin1').split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  const v = line?.slice(name.length + 1).trim();
  return v?.replace(/=\?utf-8\?B\?([^?]+)\?=/gi, (_m, b: string) => Buffer.from(b, 'base64').toString('utf8'));
}
const parseAddress = (v: string | undefined) => {
  const m = /^"?([^"<]*)"?\s*<([^>]+)>$/.exec(v?.trim() ?? '');
  return m ? { name: m[1]!.trim(), address: m[2]! } : { name: v ?? '', address: v ?? '' };
};

/**
 * The Graph write endpoints a restore uses, with their documented behaviour: OneDrive uploads (PUT
 * content, upload sessions), folders and `@microsoft.graph.conflictBehavior` (409 nameAlreadyExists
 * for `fail`), fileSystemInfo PATCH; mail folders (409 ErrorFolderExists), messages created as
 * JSON (a draft unless PidTagMessageFlags without the unsent bit is set), beta importMime (never a
 * draft; needs Mail-Advanced.ReadWrite.All), PATCH and DELETE; contact folders and contacts; a 403
 * for a token without the write role. Tried before the read routes (routes.ts).
 */
export function matchWriteRoute(req: SimRequest, tenant: SimTenant, ctx: WriteRouteContext): RouteMatch | undefined {
  const beta = req.url.pathname.startsWith('/beta/');
  const path = req.url.pathname.replace(/^\/(v1\.0|beta)/, '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'drives' || parts[0] === 'sites') return matchSiteWriteRoute(req, tenant, ctx, parts);
  if (parts[0] !== 'users' || !parts[1]) return undefined;
  let u: SimUserData;
  try {
    u = tenant.user(parts[1]);
  } catch {
    return undefined; // the read routes answer 404 for the user
  }
  const rest = parts.slice(2);
  const method = req.method.toUpperCase();
  const roles = () => ctx.roles(req.headers.authorization);
  const needs = (granted: string[], run: () => SimResponse) => () => (granted.some((r) => roles().includes(r)) ? run() : denied());
  const plain = (name: string, run: () => SimResponse): RouteMatch => ({ name, deltaWithToken: false, run });
  const mailbox = `${tenant.tenantId}/${u.user.id}`;
  const outlook = (name: string, run: () => SimResponse): RouteMatch => ({ name, mailbox, deltaWithToken: false, run: () => (u.user.hasMailbox ? run() : noMailbox()) });

  // ---- OneDrive: path-addressed items (".../root:/name", ".../items/{id}:/name:/content") ----
  if (rest[0] === 'drive') {
    if (!u.user.hasDrive) return undefined;
    return driveWriteRoute(req, tenant, ctx, u, rest, req.url.pathname.replace(/^\/(v1\.0|beta)\/users\/[^/]+\/drive\//, ''), 'drive');
  }

  const box = u.mailbox;
  // ---- Mail ----
  const config = matchMailboxConfigWriteRoute(req, u, rest, outlook, needs, () => body(req));
  if (config) return config;
  if (rest[0] === 'mailFolders' && rest[1]) {
    const isRoot = rest[1] === 'msgfolderroot' || rest[1].startsWith('msgroot-');
    const folder = isRoot ? undefined : (box.folders.get(rest[1]) ?? [...box.folders.values()].find((f) => f.wellKnownName === rest[1]!.toLowerCase()));
    const parentId = isRoot ? null : (folder?.id ?? undefined);
    if (rest[2] === 'childFolders' && rest.length === 3) {
      const children = () => [...box.folders.values()].filter((f) => f.parentFolderId === parentId);
      if (method === 'GET' && req.url.searchParams.has('$filter')) {
        const name = eqFilter(req, 'displayName');
        return outlook('mail.childFolders.filter', () => (parentId === undefined ? notFound('folder') : json(200, { value: children().filter((f) => f.displayName.toLowerCase() === name?.toLowerCase()).map((f) => mailFolderJson(u, f, `msgroot-${u.user.id.slice(0, 8)}`)) })));
      }
      if (method === 'POST')
        return outlook(
          'mail.createFolder',
          needs(MAIL_WRITE, () => {
            if (parentId === undefined) return notFound('folder');
            const name = String(body(req).displayName ?? '');
            if (name === '') return graphError(400, 'ErrorInvalidRequest', 'A folder needs a displayName.');
            if (children().some((f) => f.displayName.toLowerCase() === name.toLowerCase())) return graphError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
            const f = { id: tenant.newId(), displayName: name, parentFolderId: parentId, version: tenant.stamp() };
            box.folders.set(f.id, f);
            return json(201, mailFolderJson(u, f, `msgroot-${u.user.id.slice(0, 8)}`));
          }),
        );
    }
    if (rest[2] === 'messages' && rest.length === 3 && method === 'GET' && req.url.searchParams.has('$filter')) {
      const id = eqFilter(req, 'internetMessageId');
      return outlook('mail.messages.filter', () => (!folder ? notFound('folder') : json(200, { value: [...box.messages.values()].filter((m) => m.folderId === folder.id && `<${m.internetMessageId}>` === id).map(messageJson) })));
    }
    if (rest[2] === 'messages' && rest.length === 3 && method === 'POST')
      return outlook('mail.createMessage', needs(MAIL_WRITE, () => (!folder ? notFound('folder') : createJsonMessage(tenant, u, folder.id, req))));
    if (rest[2] === 'importMime' && rest.length === 3 && method === 'POST' && beta)
      return outlook(
        'mail.importMime',
        needs(MAIL_WRITE, () => {
          if (!roles().includes(IMPORT_MIME)) return denied();
          if (!folder) return notFound('folder');
          const b = body(req);
          if (typeof b.mimeContent !== 'string') return graphError(400, 'ErrorInvalidRequest', 'importMime takes {"mimeContent": "<base64 MIME>"}.');
          return json(201, messageJson(importMessage(tenant, u, folder.id, Buffer.from(b.mimeContent, 'base64'))));
        }),
      );
    return undefined;
  }
  if (rest[0] === 'messages' && rest[1] && (method === 'PATCH' || method === 'DELETE') && rest.length === 2)
    return outlook(
      method === 'PATCH' ? 'mail.patch' : 'mail.delete',
      needs(MAIL_WRITE, () => {
        const m = box.messages.get(rest[1]!);
        if (!m) return notFound('message');
        if (method === 'DELETE') {
          box.messages.delete(m.id);
          tenant.tombstone(u, m.id, m.folderId);
          return { status: 204 };
        }
        const b = body(req) as { isRead?: boolean; flag?: { flagStatus?: SimMessage['flagStatus'] }; categories?: string[] };
        if (typeof b.isRead === 'boolean') m.isRead = b.isRead;
        if (b.flag?.flagStatus) m.flagStatus = b.flag.flagStatus;
        if (Array.isArray(b.categories)) m.categories = b.categories.map(String);
        m.version = tenant.stamp();
        return json(200, messageJson(m));
      }),
    );
  if (rest[0] === 'messages' && rest[1] && rest[2] === 'attachments' && rest.length === 3 && method === 'POST')
    return outlook(
      'mail.attach',
      needs(MAIL_WRITE, () => {
        const m = box.messages.get(rest[1]!);
        const spec = jsonSpecs.get(m ?? ({} as SimMessage));
        if (!m || !spec) return notFound('message');
        const b = body(req) as { name?: string; contentType?: string; contentBytes?: string };
        spec.attachments = [...(spec.attachments ?? []), { name: String(b.name ?? 'attachment'), contentType: String(b.contentType ?? 'application/octet-stream'), data: Buffer.from(String(b.contentBytes ?? ''), 'base64') }];
        m.mime = buildMime(spec);
        m.hasAttachments = true;
        m.version = tenant.stamp();
        return json(201, { id: `att-${spec.attachments.length}`, name: b.name });
      }),
    );

  if (rest[0] === 'messages' && rest[1] && rest[2] === 'attachments' && rest[3] === 'createUploadSession' && rest.length === 4 && method === 'POST')
    return outlook(
      'mail.attachUploadSession',
      needs(MAIL_WRITE, () => {
        const m = box.messages.get(rest[1]!);
        const spec = jsonSpecs.get(m ?? ({} as SimMessage));
        if (!m || !spec) return notFound('message');
        const item = (body(req).AttachmentItem ?? {}) as { attachmentType?: string; name?: string; size?: number; contentType?: string };
        if (item.attachmentType !== 'file' || typeof item.name !== 'string' || item.name === '' || !Number.isInteger(item.size))
          return graphError(400, 'ErrorInvalidRequest', 'AttachmentItem needs attachmentType "file", a name and a size.');
        const size = item.size!;
        if (size <= 0 || size > MAX_ATTACHMENT_SESSION) return graphError(400, 'ErrorAttachmentSizeLimitExceeded', `An upload session takes an attachment of 1 byte to ${MAX_ATTACHMENT_SESSION} bytes.`);
        const name = item.name;
        const contentType = item.contentType ?? 'application/octet-stream';
        // The last fragment creates the attachment: 201, its URL in Location, no body.
        const session = ctx.uploads.open(
          (data) => {
            spec.attachments = [...(spec.attachments ?? []), { name, contentType, data }];
            m.mime = buildMime(spec);
            m.hasAttachments = true;
            m.version = tenant.stamp();
            return { status: 201, headers: { Location: `${ctx.origin}/v1.0/users/${u.user.id}/messages/${m.id}/attachments/att-${spec.attachments.length}` } };
          },
          size,
          ATTACHMENT_RULES,
        );
        return json(201, { '@odata.context': `${ctx.origin}/v1.0/$metadata#microsoft.graph.uploadSession`, ...session });
      }),
    );

  // ---- Contacts ----
  if (rest[0] === 'contactFolders' && (rest.length === 1 || (rest.length === 3 && rest[2] === 'childFolders'))) {
    // /contactFolders: the top folders; /contactFolders/{id}/childFolders: that folder's children (names are unique among siblings).
    const parentId = rest.length === 1 ? null : rest[1]!;
    const known = parentId === null || box.contactFolders.has(parentId);
    const children = () => [...box.contactFolders.values()].filter((f) => f.parentFolderId === parentId);
    const render = (f: SimContactFolder) => contactFolderJson(f, f.parentFolderId ?? `contacts-${u.user.id.slice(0, 8)}`);
    if (method === 'GET' && req.url.searchParams.has('$filter')) {
      const name = eqFilter(req, 'displayName')?.toLowerCase();
      return outlook('contacts.folders.filter', () => (!known ? notFound('contact folder') : json(200, { value: children().filter((f) => f.displayName.toLowerCase() === name).map(render) })));
    }
    if (method === 'POST')
      return outlook(
        'contacts.createFolder',
        needs(CONTACTS_WRITE, () => {
          if (!known) return notFound('contact folder');
          const name = String(body(req).displayName ?? '');
          if (name === '') return graphError(400, 'ErrorInvalidRequest', 'A folder needs a displayName.');
          if (children().some((f) => f.displayName.toLowerCase() === name.toLowerCase())) return graphError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
          const f: SimContactFolder = { id: tenant.newId(), displayName: name, parentFolderId: parentId, version: tenant.stamp() };
          box.contactFolders.set(f.id, f);
          return json(201, render(f));
        }),
      );
  }
  if (rest[0] === 'contactFolders' && rest[1] && rest.length === 2 && method === 'GET') {
    const f = box.contactFolders.get(rest[1]);
    return outlook('contacts.folder', () => (f ? json(200, contactFolderJson(f, f.parentFolderId ?? `contacts-${u.user.id.slice(0, 8)}`)) : notFound('contact folder')));
  }
  const contactsIn = rest[0] === 'contacts' && rest.length === 1 ? null : rest[0] === 'contactFolders' && rest[2] === 'contacts' && rest.length === 3 ? rest[1]! : undefined;
  if (contactsIn !== undefined) {
    const known = contactsIn === null || box.contactFolders.has(contactsIn);
    if (method === 'GET' && req.url.searchParams.has('$filter')) {
      const name = eqFilter(req, 'displayName');
      return outlook('contacts.filter', () => (!known ? notFound('contact folder') : json(200, { value: [...box.contacts.values()].filter((c) => c.folderId === contactsIn && c.displayName === name).map((c) => contactJson(c, `contacts-${u.user.id.slice(0, 8)}`)) })));
    }
    if (method === 'POST')
      return outlook(
        'contacts.create',
        needs(CONTACTS_WRITE, () => {
          if (!known) return notFound('contact folder');
          const b = body(req) as Partial<SimContact>;
          const c: SimContact = {
            id: tenant.newId(),
            version: tenant.stamp(),
            folderId: contactsIn,
            givenName: String(b.givenName ?? ''),
            surname: String(b.surname ?? ''),
            displayName: String(b.displayName ?? ''),
            emailAddresses: Array.isArray(b.emailAddresses) ? b.emailAddresses : [],
            mobilePhone: b.mobilePhone ?? null,
            businessPhones: Array.isArray(b.businessPhones) ? b.businessPhones : [],
            companyName: b.companyName ?? null,
          };
          box.contacts.set(c.id, c);
          return json(201, contactJson(c, `contacts-${u.user.id.slice(0, 8)}`));
        }),
      );
  }
  if (rest[0] === 'contacts' && rest[1] && rest.length === 2 && method === 'DELETE')
    return outlook(
      'contacts.delete',
      needs(CONTACTS_WRITE, () => {
        const c = box.contacts.get(rest[1]!);
        if (!c) return notFound('contact');
        box.contacts.delete(c.id);
        tenant.tombstone(u, c.id, contactScope(c.folderId));
        return { status: 204 };
      }),
    );
  return undefined;
}

/**
 * The writes into one drive (a user's OneDrive, or a site's document library under /drives/{id}):
 * `rest` starts with the drive segment, `raw` is the path after the drive ("root:/a/b:/content").
 * Route names start with `names` ("drive" or "library"), so tests count each kind.
 */
export function driveWriteRoute(req: SimRequest, tenant: SimTenant, ctx: WriteRouteContext, u: SimUserData, rest: string[], raw: string, names: string): RouteMatch | undefined {
  const method = req.method.toUpperCase();
  const roles = () => ctx.roles(req.headers.authorization);
  const needs = (granted: string[], run: () => SimResponse) => () => (granted.some((r) => roles().includes(r)) ? run() : denied());
  const plain = (name: string, run: () => SimResponse): RouteMatch => ({ name, deltaWithToken: false, run });
    const addressed = /^(root|items\/([^/:]+)):\/(.+?)(?::\/(content|createUploadSession)|:)?$/.exec(raw);
    if (addressed) {
      const parentId = addressed[1] === 'root' ? u.rootId : decodeURIComponent(addressed[2]!);
      const name = decodeURIComponent(addressed[3]!);
      const action = addressed[4];
      const parent = u.drive.get(parentId);
      const child = (n: string) => [...u.drive.values()].find((i) => i.parentId === parentId && i.name.toLowerCase() === n.toLowerCase());
      if (!action && method === 'GET') return plain(`${names}.byPath`, () => (!parent ? itemNotFound() : ((c) => (c ? json(200, driveItemJson(u, c, c.folder ? undefined : ctx.downloadUrl(tenant, u, c.id))) : itemNotFound()))(child(name))));
      if (action === 'content' && method === 'PUT')
        return plain(`${names}.upload`, needs(FILES_WRITE, () => (!parent ? itemNotFound() : putFile(tenant, u, parentId, name, req.body, req.url.searchParams.get('@microsoft.graph.conflictBehavior') ?? 'replace', undefined))));
      if (action === 'createUploadSession' && method === 'POST')
        return plain(
          `${names}.uploadSession`,
          needs(FILES_WRITE, () => {
            if (!parent) return itemNotFound();
            const item = (body(req).item ?? {}) as { '@microsoft.graph.conflictBehavior'?: string; fileSystemInfo?: { createdDateTime?: string; lastModifiedDateTime?: string } };
            const behavior = item['@microsoft.graph.conflictBehavior'] ?? 'fail';
            if (behavior === 'fail' && child(name)) return graphError(409, 'nameAlreadyExists', 'The specified item name already exists.');
            return json(200, ctx.uploads.open((content) => putFile(tenant, u, parentId, name, content, behavior, item.fileSystemInfo)));
          }),
        );
      return undefined;
    }
    if (rest[1] === 'items' && rest[2] && rest.length === 3 && (method === 'PATCH' || method === 'DELETE')) {
      const item = u.drive.get(rest[2]);
      return plain(
        method === 'PATCH' ? `${names}.patch` : `${names}.delete`,
        needs(FILES_WRITE, () => {
          if (!item) return itemNotFound();
          if (method === 'DELETE') {
            u.drive.delete(item.id);
            tenant.tombstone(u, item.id, 'drive');
            return { status: 204 };
          }
          const b = body(req) as { fileSystemInfo?: { createdDateTime?: string; lastModifiedDateTime?: string } };
          if (b.fileSystemInfo?.createdDateTime) item.created = b.fileSystemInfo.createdDateTime;
          if (b.fileSystemInfo?.lastModifiedDateTime) item.modified = b.fileSystemInfo.lastModifiedDateTime;
          item.eTagVersion++;
          item.version = tenant.stamp();
          return json(200, driveItemJson(u, item));
        }),
      );
    }
    const childrenOf = rest[1] === 'root' && rest[2] === 'children' && rest.length === 3 ? u.rootId : rest[1] === 'items' && rest[3] === 'children' && rest.length === 4 ? rest[2]! : undefined;
    if (childrenOf !== undefined && method === 'POST')
      return plain(
        `${names}.createFolder`,
        needs(FILES_WRITE, () => {
          if (!u.drive.has(childrenOf)) return itemNotFound();
          const b = body(req) as { name?: string; folder?: unknown; '@microsoft.graph.conflictBehavior'?: string };
          if (typeof b.name !== 'string' || !b.folder) return graphError(400, 'invalidRequest', 'A folder needs a name and "folder": {}.');
          const taken = (n: string) => [...u.drive.values()].some((i) => i.parentId === childrenOf && i.name.toLowerCase() === n.toLowerCase());
          let name = b.name;
          if (taken(name)) {
            const behavior = b['@microsoft.graph.conflictBehavior'] ?? 'fail';
            if (behavior === 'fail') return graphError(409, 'nameAlreadyExists', 'The specified item name already exists.');
            if (behavior === 'rename') name = freeName(taken, name);
            else return json(200, driveItemJson(u, [...u.drive.values()].find((i) => i.parentId === childrenOf && i.name.toLowerCase() === name.toLowerCase())!));
          }
          const now = new Date().toISOString();
          const f: SimDriveItem = { id: tenant.newId(), name, parentId: childrenOf, folder: true, created: now, modified: now, version: tenant.stamp(), eTagVersion: 1, cTagVersion: 1 };
          u.drive.set(f.id, f);
          return json(201, driveItemJson(u, f));
        }),
      );
    return undefined;
}

/** A file written under its parent with a conflict behaviour (fail: 409; rename: "name 1.ext"; replace: new content, same id). */
function putFile(tenant: SimTenant, u: SimUserData, parentId: string, name: string, content: Buffer, behavior: string, times: { createdDateTime?: string; lastModifiedDateTime?: string } | undefined): SimResponse {
  const taken = (n: string) => [...u.drive.values()].find((i) => i.parentId === parentId && i.name.toLowerCase() === n.toLowerCase());
  const existing = taken(name);
  const now = new Date().toISOString();
  if (existing && behavior === 'fail') return graphError(409, 'nameAlreadyExists', 'The specified item name already exists.');
  if (existing && behavior === 'replace' && !existing.folder) {
    existing.content = content;
    existing.modified = times?.lastModifiedDateTime ?? now;
    existing.eTagVersion++;
    existing.cTagVersion++;
    existing.version = tenant.stamp();
    return json(200, driveItemJson(u, existing));
  }
  const finalName = existing ? freeName((n) => taken(n) !== undefined, name) : name;
  const f: SimDriveItem = { id: tenant.newId(), name: finalName, parentId, folder: false, content, created: times?.createdDateTime ?? now, modified: times?.lastModifiedDateTime ?? now, version: tenant.stamp(), eTagVersion: 1, cTagVersion: 1 };
  u.drive.set(f.id, f);
  return json(201, driveItemJson(u, f));
}

/** What a JSON-created message was made from (attachments added later rebuild its MIME). */
const jsonSpecs = new WeakMap<SimMessage, Parameters<typeof buildMime>[0]>();

function createJsonMessage(tenant: SimTenant, u: SimUserData, folderId: string, req: SimRequest): SimResponse {
  const contentType = req.headers['content-type'] ?? '';
  const id = tenant.newId();
  if (/text\/plain/i.test(contentType)) {
    // A base64 MIME body on v1.0: Graph creates a draft, always.
    const m = importMessage(tenant, u, folderId, Buffer.from(req.body.toString('utf8'), 'base64'));
    m.isDraft = true;
    return json(201, messageJson(m));
  }
  const b = body(req) as {
    subject?: string;
    body?: { content?: string };
    from?: { emailAddress?: { name?: string; address?: string } };
    toRecipients?: { emailAddress?: { name?: string; address?: string } }[];
    internetMessageId?: string;
    singleValueExtendedProperties?: { id?: string; value?: string }[];
  };
  const prop = (pid: string) => b.singleValueExtendedProperties?.find((p) => p.id?.toLowerCase() === pid.toLowerCase())?.value;
  const flags = prop('Integer 0x0E07');
  const received = prop('SystemTime 0x0E06') ?? new Date().toISOString();
  const addr = (a?: { emailAddress?: { name?: string; address?: string } }) => ({ name: a?.emailAddress?.name ?? '', address: a?.emailAddress?.address ?? '' });
  const internetMessageId = (b.internetMessageId ?? `<${id}@sim.${tenant.domain}>`).replace(/^<|>$/g, '');
  const spec = { messageId: internetMessageId, subject: b.subject ?? '', from: addr(b.from), to: (b.toRecipients ?? []).map(addr), date: received, text: b.body?.content ?? '', attachments: [] as { name: string; contentType: string; data: Buffer }[] };
  const m: SimMessage = {
    id,
    folderId,
    mime: buildMime(spec),
    subject: spec.subject,
    from: spec.from,
    to: spec.to,
    receivedDateTime: received,
    sentDateTime: prop('SystemTime 0x0039') ?? received,
    isRead: flags !== undefined && (Number(flags) & 1) === 1,
    flagStatus: 'notFlagged',
    categories: [],
    hasAttachments: false,
    internetMessageId,
    isDraft: flags === undefined || (Number(flags) & MSGFLAG_UNSENT) !== 0,
    version: tenant.stamp(),
  };
  jsonSpecs.set(m, spec);
  u.mailbox.messages.set(id, m);
  return json(201, messageJson(m));
}

/** A message "as if delivered" from its MIME (importMime): the bytes kept exactly, never a draft. */
function importMessage(tenant: SimTenant, u: SimUserData, folderId: string, mime: Buffer): SimMessage {
  const id = tenant.newId();
  const date = Date.parse(mimeHeader(mime, 'Date') ?? '');
  const received = Number.isNaN(date) ? new Date().toISOString() : new Date(date).toISOString();
  const m: SimMessage = {
    id,
    folderId,
    mime,
    subject: mimeHeader(mime, 'Subject') ?? '',
    from: parseAddress(mimeHeader(mime, 'From')),
    to: (mimeHeader(mime, 'To') ?? '').split(/,\s*(?=")/).filter(Boolean).map(parseAddress),
    receivedDateTime: received,
    sentDateTime: received,
    isRead: false,
    flagStatus: 'notFlagged',
    categories: [],
    hasAttachments: /Content-Disposition: attachment/i.test(mime.toString('latin1')),
    internetMessageId: (mimeHeader(mime, 'Message-ID') ?? `<${id}@sim.${tenant.domain}>`).replace(/^<|>$/g, ''),
    isDraft: false,
    version: tenant.stamp(),
  };
  u.mailbox.messages.set(id, m);
  return m;
}
