import { getJson, graphError, isGraphReadFailure, pages } from '../requests';
import { teamsMessageItems, type TeamsMessage } from './teamsMessage';
import { isObject, type ServiceSource, type SourceChange, type SourceContext } from './types';

export const CHATS_SCOPE = 'chats';
export const chatScope = (chatId: string) => `chat:${chatId}`;
export const chatMessageItemId = (chatId: string, messageId: string) => `msg:${chatId}:${messageId}`;
export const chatHostedItemId = (chatId: string, messageId: string, hostedId: string) => `hosted:${chatId}:${messageId}:${hostedId}`;

/** A chat's cursor is the start of the run that last read it, moved back by this much (clock skew, late writes). */
const FILTER_MARGIN_MS = 10 * 60_000;
/** Graph's largest page of chat messages ($top "Maximum allowed $top value is 50"). */
const PAGE = 50;

interface Member {
  displayName?: string | null;
  userId?: string | null;
  email?: string | null;
}
interface Chat {
  id: string;
  chatType?: string;
  topic?: string | null;
  lastUpdatedDateTime?: string | null;
  members?: Member[];
}
type Message = TeamsMessage;

const CURSOR = /^since:(\d{4}-[0-9TZ:.+-]+)$/;

/**
 * A user's one-on-one, group and meeting chats (GET /users/{id}/chats?$expand=members) and their
 * messages (GET /chats/{id}/messages), each message's hosted contents (inline images) as items of
 * their own. Chats have no message delta: the first backup of a chat lists every message; its cursor
 * is that run's start less a margin, and later runs ask only for messages modified since
 * (`$orderby=lastModifiedDateTime desc&$filter=lastModifiedDateTime gt …`, the one filter Graph
 * supports there). Every chat is asked each run: a chat's lastUpdatedDateTime moves only when it
 * is renamed or its members change (Graph's chat resource), not when a message is posted, edited or
 * deleted, so it cannot tell which chats to skip. A deleted message (deletedDateTime) ends its
 * stored version. The app needs Chat.Read.All, a protected API (Microsoft's approval): a refusal
 * (403) fails the user's chat listing as a listed scope, never the run. A chat is backed up once
 * per member who is backed up (the partition is per user, as Corso does).
 */
export class ChatsSource implements ServiceSource {
  readonly service = 'chats' as const;
  constructor(private readonly ctx: SourceContext) {}

  async *changes(cursors: Record<string, string>): AsyncIterable<SourceChange> {
    const { conn, userId } = this.ctx;
    const started = (this.ctx.now ?? new Date()).getTime();
    const chats: Chat[] = [];
    try {
      for await (const p of pages<Chat>(conn, `/users/${encodeURIComponent(userId)}/chats?$expand=members&$top=${PAGE}`, `the chats of user ${userId}`)) chats.push(...p.value.filter((c) => isObject(c) && typeof c.id === 'string'));
    } catch (e) {
      if (!isGraphReadFailure(e)) throw e;
      yield { kind: 'scopeFailed', scope: CHATS_SCOPE, reason: e.code === 'CONSENT_MISSING' ? `${e.message} (chats need the application permission Chat.Read.All, a protected API that Microsoft approves on request)` : e.message };
      return;
    }
    for (const c of chats) {
      const members = (Array.isArray(c.members) ? c.members : []).map((m) => ({ id: m.userId ?? null, displayName: m.displayName ?? null, email: m.email ?? null }));
      yield {
        kind: 'item',
        id: `chat:${c.id}`,
        scope: CHATS_SCOPE,
        version: `${c.lastUpdatedDateTime ?? ''}\0${c.topic ?? ''}\0${members.map((m) => m.id).join(',')}`,
        meta: { type: 'chat', chatId: c.id, chatType: c.chatType ?? null, topic: c.topic ?? null, members, lastUpdated: c.lastUpdatedDateTime ?? null },
      };
    }
    yield { kind: 'scopeComplete', scope: CHATS_SCOPE, full: true };
    const live = new Set(chats.map((c) => chatScope(c.id)));
    for (const scope of Object.keys(cursors)) if (scope !== CHATS_SCOPE && !live.has(scope)) yield { kind: 'scopeGone', scope };
    const next = `since:${new Date(started - FILTER_MARGIN_MS).toISOString()}`;
    for (const c of chats) yield* this.chat(c, cursors[chatScope(c.id)], next);
  }

  private async *chat(c: Chat, cursor: string | undefined, next: string): AsyncGenerator<SourceChange> {
    const scope = chatScope(c.id);
    const since = cursor ? CURSOR.exec(cursor)?.[1] : undefined;
    const base = `/chats/${encodeURIComponent(c.id)}/messages`;
    // $filter applies only together with $orderby on the same property (Graph: chat-list-messages).
    let url: string | undefined = since ? `${base}?$top=${PAGE}&$orderby=lastModifiedDateTime desc&$filter=${encodeURIComponent(`lastModifiedDateTime gt ${since}`)}` : `${base}?$top=${PAGE}`;
    const what = `the messages of chat ${c.topic || c.id}`;
    if (cursor && !since) yield { kind: 'resync', scope };
    try {
      while (url) {
        const page: Record<string, unknown> = await getJson<Record<string, unknown>>(this.ctx.conn, url, what);
        if (!Array.isArray(page.value)) throw graphError('SOURCE', `${what}: the page has no "value" list`);
        for (const m of page.value as unknown[]) {
          if (!isObject(m) || typeof m.id !== 'string') {
            yield { kind: 'failed', id: '?', scope, reason: 'a chat message without an id' };
            continue;
          }
          yield* this.message(c, m as Message);
        }
        url = typeof page['@odata.nextLink'] === 'string' ? page['@odata.nextLink'] : undefined;
      }
    } catch (e) {
      if (!isGraphReadFailure(e)) throw e;
      yield e.code === 'NOT_FOUND' ? { kind: 'scopeGone', scope } : { kind: 'scopeFailed', scope, reason: e.message };
      return;
    }
    yield { kind: 'scopeComplete', scope, full: !since, cursor: next };
  }

  /** One message as its item, and its hosted contents as items of their own. */
  private message(c: Chat, m: Message): Generator<SourceChange> {
    return teamsMessageItems({
      conn: this.ctx.conn,
      scope: chatScope(c.id),
      id: chatMessageItemId(c.id, m.id),
      message: m,
      where: { chatId: c.id },
      extra: { messageType: m.messageType ?? null },
      hostedItemId: (h) => chatHostedItemId(c.id, m.id, h),
      path: `/chats/${encodeURIComponent(c.id)}/messages/${encodeURIComponent(m.id)}`,
    });
  }
}
