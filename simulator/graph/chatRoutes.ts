import type { SimTenant, SimUserData } from '../tenant/model';
import { CHAT_HOSTED_SRC, chatsOf, type SimChat, type SimChatLine } from '../tenant/chats';
import { listPage } from './delta';
import { graphError, json, type SimRequest, type SimResponse } from './http';
import type { RouteContext, RouteMatch } from './routes';

/**
 * Chats as Graph v1.0 serves them: GET /users/{id}/chats ($expand=members, $top up to 50),
 * GET /chats/{id}/messages ($top up to 50; $orderby lastModifiedDateTime desc (the default) or
 * createdDateTime desc; $filter=lastModifiedDateTime gt|lt … applied only together with $orderby on
 * the same property, else ignored, as chat-list-messages documents), one message, and hosted contents.
 * A deleted message stays in the listing with deletedDateTime set and no body.
 */

const notFound = () => graphError(404, 'NotFound', 'Resource not found.');
const forbidden = () => graphError(403, 'Forbidden', 'Missing role permissions on the request. API requires one of \'Chat.Read.All, Chat.ReadWrite.All\'.');

function chatJson(tenant: SimTenant, c: SimChat, members: boolean): Record<string, unknown> {
  return {
    id: c.id,
    topic: c.topic,
    createdDateTime: c.created,
    lastUpdatedDateTime: c.lastUpdated,
    chatType: c.chatType,
    webUrl: `https://teams.microsoft.com/l/chat/${encodeURIComponent(c.id)}/0?tenantId=${tenant.tenantId}`,
    tenantId: tenant.tenantId,
    ...(members
      ? {
          members: c.members.map((m) => ({
            '@odata.type': '#microsoft.graph.aadUserConversationMember',
            id: Buffer.from(`${c.id}#${m.userId}`).toString('base64'),
            roles: ['owner'],
            displayName: m.displayName,
            visibleHistoryStartDateTime: '0001-01-01T00:00:00Z',
            userId: m.userId,
            email: m.email,
            tenantId: tenant.tenantId,
          })),
        }
      : {}),
  };
}

function messageJson(origin: string, c: SimChat, m: SimChatLine): Record<string, unknown> {
  const base = `${origin}/v1.0/chats/${encodeURIComponent(c.id)}/messages/${m.id}`;
  let html = m.html;
  for (const hid of m.hosted.keys()) html = html.split(CHAT_HOSTED_SRC(hid)).join(`${base}/hostedContents/${hid}/$value`);
  return {
    '@odata.type': '#microsoft.graph.chatMessage',
    id: m.id,
    replyToId: null,
    etag: String(m.etag),
    messageType: 'message',
    createdDateTime: m.created,
    lastModifiedDateTime: m.lastModified,
    lastEditedDateTime: m.deleted ? null : m.lastEdited,
    deletedDateTime: m.deleted,
    subject: null,
    chatId: c.id,
    importance: 'normal',
    locale: 'en-us',
    webUrl: null,
    channelIdentity: null,
    from: { user: { '@odata.type': '#microsoft.graph.teamworkUserIdentity', id: m.from.id, displayName: m.from.displayName, userIdentityType: 'aadUser' }, application: null, device: null },
    body: { contentType: 'html', content: m.deleted ? '' : html },
    attachments: [],
    mentions: [],
    reactions: [],
  };
}

/** The messages of a chat in the order and range the query asks for (Graph's rules, see above). */
function orderedMessages(req: SimRequest, c: SimChat): SimChatLine[] | SimResponse {
  const q = req.url.searchParams;
  const orderby = (q.get('$orderby') ?? 'lastModifiedDateTime desc').trim();
  const m = /^(lastModifiedDateTime|createdDateTime)(?:\s+(asc|desc))?$/.exec(orderby);
  if (!m || m[2] === 'asc') return graphError(400, 'BadRequest', `$orderby "${orderby}" is not supported: lastModifiedDateTime desc or createdDateTime desc only.`);
  const key = m[1] === 'createdDateTime' ? (x: SimChatLine) => x.created : (x: SimChatLine) => x.lastModified;
  let list = [...c.messages.values()].sort((a, b) => key(b).localeCompare(key(a)) || b.id.localeCompare(a.id));
  const filter = q.get('$filter');
  // Graph filters only when $orderby names the same property; otherwise $filter is ignored.
  if (filter && q.has('$orderby')) {
    for (const clause of filter.split(/\s+and\s+/i)) {
      const f = /^\s*(lastModifiedDateTime|createdDateTime)\s+(gt|lt)\s+([0-9TZ:.+-]+)\s*$/.exec(clause);
      if (!f) return graphError(400, 'BadRequest', `$filter "${filter}" is not supported.`);
      if (f[1] !== m[1]) continue;
      if (f[1] === 'createdDateTime' && f[2] === 'gt') return graphError(400, 'BadRequest', 'createdDateTime supports the lt operator only.');
      const at = Date.parse(f[3]!);
      list = list.filter((x) => (f[2] === 'gt' ? Date.parse(key(x)) > at : Date.parse(key(x)) < at));
    }
  }
  return list;
}

/** /users/{id}/chats: the chats the user is a member of. */
export function matchUserChatsRoute(req: SimRequest, tenant: SimTenant, ctx: RouteContext, u: SimUserData, rest: string[]): RouteMatch | undefined {
  if (rest[0] !== 'chats' || rest.length !== 1) return undefined;
  return {
    name: 'user.chats',
    deltaWithToken: false,
    run: () => {
      const store = chatsOf(tenant);
      if (store.denied.has(u.user.id)) return forbidden();
      const members = /\bmembers\b/.test(req.url.searchParams.get('$expand') ?? '');
      const mine = [...store.chats.values()].filter((c) => c.members.some((m) => m.userId === u.user.id)).sort((a, b) => a.id.localeCompare(b.id));
      return listPage(req, ctx.origin, mine.map((c) => chatJson(tenant, c, members)), 20, 50);
    },
  };
}

/** /chats/{id}, /chats/{id}/messages[/{id}[/hostedContents[/{id}/$value]]]. */
export function matchChatRoute(req: SimRequest, tenant: SimTenant, ctx: RouteContext, parts: string[]): RouteMatch | undefined {
  if (parts[0] !== 'chats' || !parts[1]) return undefined;
  const plain = (name: string, run: () => SimResponse): RouteMatch => ({ name, deltaWithToken: false, run });
  const store = chatsOf(tenant);
  const c = store.chats.get(parts[1]);
  if (!c) return plain('chat', notFound);
  const r = parts.slice(2);
  if (r.length === 0) return plain('chat', () => json(200, chatJson(tenant, c, false)));
  if (r[0] !== 'messages') return undefined;
  if (r.length === 1)
    return plain('chat.messages', () => {
      const list = orderedMessages(req, c);
      if (!Array.isArray(list)) return list;
      const res = listPage(req, ctx.origin, list.map((m) => messageJson(ctx.origin, c, m)), 20, 50);
      store.served += ((res.json as { value?: unknown[] } | undefined)?.value ?? []).length;
      return res;
    });
  const m = c.messages.get(r[1]!);
  if (!m) return plain('chat.message', notFound);
  if (r.length === 2) return plain('chat.message', () => json(200, messageJson(ctx.origin, c, m)));
  if (r[2] !== 'hostedContents') return undefined;
  if (r.length === 3) return plain('chat.hostedContents', () => json(200, { value: [...m.hosted.entries()].map(([id, h]) => ({ id, contentType: h.contentType })) }));
  const h = m.hosted.get(r[3]!);
  if (r[4] === '$value' && r.length === 5) return plain('chat.hostedContent', () => (!h ? notFound() : { status: 200, headers: { 'Content-Type': h.contentType }, bytes: h.data }));
  return undefined;
}
