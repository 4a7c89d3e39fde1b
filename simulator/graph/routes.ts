import type { SimTenant, SimUserData } from '../tenant/model';
import { contactScope } from '../tenant/model';
import { deltaPage, listPage } from './delta';
import { graphError, json, type SimRequest, type SimResponse } from './http';
import { matchSiteRoute } from './siteRoutes';
import { matchGroupRoute } from './groupRoutes';
import { matchTeamRoute } from './teamRoutes';
import { matchChatRoute, matchUserChatsRoute } from './chatRoutes';
import { scopesOf } from '../tenant/sites';
import { matchCalendarRoute } from './calendarRoutes';
import { matchMailboxConfigRoute } from './mailboxConfigRoutes';
import { contactFolderJson, contactJson, driveItemJson, driveTombstoneJson, eventJson, mailFolderJson, malformedJson, messageJson, removedJson } from './shapes';

export interface RouteContext {
  origin: string;
  /** Counter value below which delta tokens of this user are expired. */
  floor(u: SimUserData): number;
  /** Counter value below which delta tokens of a site or team (by id) are expired. */
  floorOf(id: string): number;
  /** A fresh pre-authenticated download URL for a drive item. */
  downloadUrl(tenant: SimTenant, u: SimUserData, itemId: string): string;
}

export interface RouteMatch {
  /** Stable route name, for request counters. */
  name: string;
  /** The mailbox the request counts against (Outlook routes only). */
  mailbox?: string;
  deltaWithToken: boolean;
  /** Counts against Teams' shared limit of channel message delta and replies (per app per tenant). */
  teamsMessages?: boolean;
  run(): SimResponse;
}

const WELL_KNOWN_ROOT = 'msgfolderroot';
const mailRootId = (u: SimUserData) => `msgroot-${u.user.id.slice(0, 8)}`;
const contactsRootId = (u: SimUserData) => `contacts-${u.user.id.slice(0, 8)}`;

const noMailbox = () => graphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
const notFound = (what: string) => graphError(404, 'ErrorItemNotFound', `The specified object was not found in the store. (${what})`);

/** Bytes that are not JSON at all, served for a "corrupt" entity fetched on its own. */
const brokenJson = (id: string): SimResponse => ({ status: 200, headers: { 'Content-Type': 'application/json' }, bytes: Buffer.from(`{"id":"${id}","subject":`) });

/** Resolves a Graph v1.0 request path to a handler over the tenant's state. */
export function matchRoute(req: SimRequest, tenant: SimTenant, ctx: RouteContext): RouteMatch | undefined {
  const beta = req.url.pathname.startsWith('/beta/');
  const path = req.url.pathname.replace(/^\/(v1\.0|beta)/, '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const withToken = req.url.searchParams.has('$deltatoken') || req.url.searchParams.has('$skiptoken');
  const plain = (name: string, run: () => SimResponse): RouteMatch => ({ name, deltaWithToken: false, run });

  if (parts[0] === 'sites' || parts[0] === 'drives') return matchSiteRoute(req, tenant, ctx, parts);
  if (parts[0] === 'groups') return matchGroupRoute(req, tenant, ctx, parts);
  if (parts[0] === 'teams') return matchTeamRoute(req, tenant, ctx, parts);
  if (parts[0] === 'chats') return matchChatRoute(req, tenant, ctx, parts);
  if (parts[0] !== 'users') return undefined;
  if (parts.length === 1)
    return plain('users', () =>
      listPage(req, ctx.origin, [...tenant.users.values()].map((u) => ({ id: u.user.id, userPrincipalName: u.user.userPrincipalName, displayName: u.user.displayName, mail: u.user.mail, accountEnabled: u.user.accountEnabled ?? true })), 100, 999),
    );
  let u: SimUserData;
  try {
    u = tenant.user(parts[1]!);
  } catch {
    return plain('user', () => graphError(404, 'Request_ResourceNotFound', `Resource '${parts[1]}' does not exist or one of its queried reference-property objects are not present.`));
  }
  const rest = parts.slice(2);
  const key = rest.join('/');
  if (rest.length === 0) return plain('user', () => json(200, { id: u.user.id, userPrincipalName: u.user.userPrincipalName, displayName: u.user.displayName, mail: u.user.mail }));

  if (rest[0] === 'chats') return matchUserChatsRoute(req, tenant, ctx, u, rest);

  // ---- OneDrive ----
  if (rest[0] === 'drive') {
    const noDrive = () => graphError(404, 'ResourceNotFound', "User's mysite not found.");
    if (rest.length === 1) return plain('drive', () => (u.user.hasDrive ? json(200, { id: u.driveId, driveType: 'business', owner: { user: { id: u.user.id, displayName: u.user.displayName } } }) : noDrive()));
    if (key === 'drive/root/delta')
      return {
        name: 'drive.delta',
        deltaWithToken: withToken,
        run: () =>
          !u.user.hasDrive
            ? noDrive()
            : deltaPage(req, ctx.origin, tenant.version, {
                live: [...u.drive.values()],
                tombstones: u.tombstones.filter((t) => t.scope === 'drive'),
                render: (i) => (u.corrupt.has(i.id) ? malformedJson(i.id) : driveItemJson(u, i, i.folder ? undefined : ctx.downloadUrl(tenant, u, i.id))),
                removed: (id) => driveTombstoneJson(u, id),
                defaultPageSize: 200,
                maxPageSize: 1000,
                floor: ctx.floor(u),
                expiredCode: 'resyncRequired',
              }),
      };
    if (rest[1] === 'items' && rest[2]) {
      const item = u.drive.get(rest[2]);
      if (rest.length === 3)
        return plain('drive.item', () => (!item ? graphError(404, 'itemNotFound', 'The resource could not be found.') : u.corrupt.has(item.id) ? brokenJson(item.id) : json(200, driveItemJson(u, item, item.folder ? undefined : ctx.downloadUrl(tenant, u, item.id)))));
      if (rest[3] === 'permissions' && rest.length === 4) return plain('drive.permissions', () => (!item ? graphError(404, 'itemNotFound', 'The resource could not be found.') : json(200, { value: scopesOf(tenant).permissions.get(item.id) ?? [] })));
      if (rest[3] === 'content' && rest.length === 4)
        return plain('drive.content', () => (!item || item.folder ? graphError(404, 'itemNotFound', 'The resource could not be found.') : { status: 302, headers: { Location: ctx.downloadUrl(tenant, u, item.id) } }));
    }
    return undefined;
  }

  // ---- Outlook: mail, calendar, contacts (per-mailbox limits apply) ----
  const mailbox = `${tenant.tenantId}/${u.user.id}`;
  const outlook = (name: string, run: () => SimResponse, delta = false): RouteMatch => ({ name, mailbox, deltaWithToken: delta && withToken, run: () => (u.user.hasMailbox ? run() : noMailbox()) });
  const box = u.mailbox;
  const folderById = (id: string) => {
    if (id === WELL_KNOWN_ROOT || id === mailRootId(u)) return undefined;
    return box.folders.get(id) ?? [...box.folders.values()].find((f) => f.wellKnownName === id.toLowerCase());
  };

  const config = matchMailboxConfigRoute(req, u, rest, outlook);
  if (config) return config;
  const calendar = matchCalendarRoute(req, tenant, ctx, u, rest, beta, outlook);
  if (calendar) return calendar;

  if (rest[0] === 'mailFolders') {
    const folderList = (parent: string | null) => [...box.folders.values()].filter((f) => f.parentFolderId === parent).map((f) => mailFolderJson(u, f, mailRootId(u)));
    if (rest.length === 1) return outlook('mail.folders', () => listPage(req, ctx.origin, folderList(null), 10, 999));
    const id = rest[1]!;
    const isRoot = id === WELL_KNOWN_ROOT || id === mailRootId(u);
    const folder = folderById(id);
    if (rest.length === 2) return outlook('mail.folder', () => (isRoot ? json(200, { id: mailRootId(u), displayName: 'Top of Information Store', parentFolderId: null, childFolderCount: folderList(null).length }) : folder ? json(200, mailFolderJson(u, folder, mailRootId(u))) : notFound('folder')));
    if (rest[2] === 'childFolders' && rest.length === 3) return outlook('mail.childFolders', () => (isRoot ? listPage(req, ctx.origin, folderList(null), 10, 999) : folder ? listPage(req, ctx.origin, folderList(folder.id), 10, 999) : notFound('folder')));
    if (rest[2] === 'messages' && rest[3] === 'delta' && rest.length === 4)
      return outlook(
        'mail.delta',
        () =>
          !folder
            ? notFound('folder')
            : deltaPage(req, ctx.origin, tenant.version, {
                live: [...box.messages.values()].filter((m) => m.folderId === folder.id),
                tombstones: u.tombstones.filter((t) => t.scope === folder.id),
                render: (m) => (u.corrupt.has(m.id) ? malformedJson(m.id) : messageJson(m)),
                removed: (mid) => removedJson('message', mid),
                defaultPageSize: 10,
                maxPageSize: 1000,
                floor: ctx.floor(u),
                expiredCode: 'syncStateNotFound',
              }),
        true,
      );
    return undefined;
  }
  if (rest[0] === 'messages' && rest[1]) {
    const m = box.messages.get(rest[1]);
    if (rest.length === 2) return outlook('mail.message', () => (!m ? notFound('message') : u.corrupt.has(m.id) ? brokenJson(m.id) : json(200, messageJson(m))));
    if (rest[2] === '$value' && rest.length === 3) return outlook('mail.value', () => (!m ? notFound('message') : { status: 200, headers: { 'Content-Type': 'text/plain' }, bytes: m.mime }));
    return undefined;
  }
  if ((key === 'calendarView/delta' || key === 'calendar/calendarView/delta') && req.method === 'GET')
    return outlook(
      'calendar.delta',
      () => {
        const q = req.url.searchParams;
        const start = Date.parse(q.get('startDateTime') ?? '');
        const end = Date.parse(q.get('endDateTime') ?? '');
        if (!q.has('$deltatoken') && !q.has('$skiptoken') && (Number.isNaN(start) || Number.isNaN(end)))
          return graphError(400, 'ErrorInvalidParameter', "This request requires a time window specified by the query string parameters 'startDateTime' and 'endDateTime'.");
        const inWindow = (e: { start: string; end: string }) => Number.isNaN(start) || (Date.parse(e.end) > start && Date.parse(e.start) < end);
        const all = [...box.events.values()];
        return deltaPage(req, ctx.origin, tenant.version, {
          live: all.filter(inWindow),
          // An event moved out of the window is reported as removed, like a deleted one.
          tombstones: [...u.tombstones.filter((t) => t.scope.startsWith('events')), ...all.filter((e) => !inWindow(e)).map((e) => ({ id: e.id, scope: 'events', version: e.version }))],
          render: (e) => (u.corrupt.has(e.id) ? malformedJson(e.id) : eventJson(e)),
          removed: (id) => removedJson('event', id),
          defaultPageSize: 10,
          maxPageSize: 1000,
          floor: ctx.floor(u),
          expiredCode: 'syncStateNotFound',
        });
      },
      true,
    );
  if (rest[0] === 'events' && rest[1] && rest.length === 2) {
    const e = box.events.get(rest[1]);
    return outlook('calendar.event', () => (!e ? notFound('event') : u.corrupt.has(e.id) ? brokenJson(e.id) : json(200, eventJson(e))));
  }
  // /contactFolders lists the top folders only (those in the default Contacts folder); nested ones are each folder's childFolders.
  const contactFolderPage = (parentId: string | null) => listPage(req, ctx.origin, [...box.contactFolders.values()].filter((f) => f.parentFolderId === parentId).map((f) => contactFolderJson(f, f.parentFolderId ?? contactsRootId(u))), 10, 999);
  if (rest[0] === 'contactFolders' && rest.length === 1) return outlook('contacts.folders', () => contactFolderPage(null));
  if (rest[0] === 'contactFolders' && rest[2] === 'childFolders' && rest.length === 3)
    return outlook('contacts.childFolders', () => (box.contactFolders.has(rest[1]!) ? contactFolderPage(rest[1]!) : notFound('contact folder')));
  const contactDelta = (folderId: string | null): RouteMatch =>
    outlook(
      'contacts.delta',
      () =>
        folderId !== null && !box.contactFolders.has(folderId)
          ? notFound('contact folder')
          : deltaPage(req, ctx.origin, tenant.version, {
              live: [...box.contacts.values()].filter((c) => c.folderId === folderId),
              tombstones: u.tombstones.filter((t) => t.scope === contactScope(folderId)),
              render: (c) => (u.corrupt.has(c.id) ? malformedJson(c.id) : contactJson(c, contactsRootId(u))),
              removed: (id) => removedJson('contact', id),
              defaultPageSize: 10,
              maxPageSize: 1000,
              floor: ctx.floor(u),
              expiredCode: 'syncStateNotFound',
            }),
      true,
    );
  if (key === 'contacts/delta') return contactDelta(null);
  if (rest[0] === 'contactFolders' && rest[2] === 'contacts' && rest[3] === 'delta' && rest.length === 4) return contactDelta(rest[1]!);
  if (rest[0] === 'contacts' && rest[1] && rest.length === 2) {
    const c = box.contacts.get(rest[1]);
    return outlook('contacts.contact', () => (!c ? notFound('contact') : u.corrupt.has(c.id) ? brokenJson(c.id) : json(200, contactJson(c, contactsRootId(u)))));
  }
  return undefined;
}
