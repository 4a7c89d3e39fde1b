import { scopeOf } from '../../m365/scopes';
import { getJson, isGraphReadFailure, listAll } from '../requests';
import { graphError } from '../requests';
import { teamsGateOf } from '../teamsGate';
import { teamsMessageItems, type TeamsMessage } from './teamsMessage';
import { isObject, type ServiceSource, type SourceChange, type SourceContext } from './types';

export const CHANNELS_SCOPE = 'channels';
export const channelScope = (channelId: string) => `ch:${channelId}`;
export const messageItemId = (channelId: string, messageId: string) => `msg:${channelId}:${messageId}`;
export const hostedItemId = (channelId: string, messageId: string, hostedId: string) => `hosted:${channelId}:${messageId}:${hostedId}`;

/** Channel message delta covers the last eight months; a cursor older than this is read again in full. */
export const TEAMS_DELTA_WINDOW_DAYS = 240;
/** The first listing's start, moved back by this much in its follow-up delta filter (clock skew, late writes). */
const FILTER_MARGIN_MS = 10 * 60_000;

interface Channel {
  id: string;
  displayName: string;
  membershipType?: string;
}

type Message = TeamsMessage;

/**
 * A team's channels (standard, private and shared), their root messages and replies, and the
 * hosted contents (inline images) of each. Channel message delta reports root messages only and
 * only of the last eight months, so the first backup of a channel (and a resync) lists its whole
 * history with /messages?$expand=replies; its cursor is then a delta filtered from that listing's
 * start, and later runs follow delta links. A root in a delta (new, edited, deleted, or with a
 * changed reply: Graph reports the thread's root) has its replies read again. /messages/delta and
 * /replies share Teams' 60 requests a minute per app per tenant: each passes the tenant's gate
 * (teamsGate.ts) first. A deleted message (deletedDateTime set) ends its stored version.
 */
export class TeamsSource implements ServiceSource {
  readonly service = 'teams' as const;
  constructor(private readonly ctx: SourceContext) {}

  async *changes(cursors: Record<string, string>): AsyncIterable<SourceChange> {
    const { conn } = this.ctx;
    const teamId = scopeOf(this.ctx.userId)?.id ?? this.ctx.userId;
    let channels: Channel[];
    try {
      channels = await listAll<Channel>(conn, `/teams/${teamId}/channels?$select=id,displayName,membershipType`, `the channels of team ${teamId}`);
    } catch (e) {
      if (!isGraphReadFailure(e)) throw e;
      yield { kind: 'scopeFailed', scope: CHANNELS_SCOPE, reason: e.message };
      return;
    }
    for (const c of channels)
      yield { kind: 'item', id: `channel:${c.id}`, scope: CHANNELS_SCOPE, version: `${c.displayName}\0${c.membershipType ?? ''}`, meta: { type: 'channel', channelId: c.id, displayName: c.displayName, membershipType: c.membershipType ?? null } };
    yield { kind: 'scopeComplete', scope: CHANNELS_SCOPE, full: true };
    const live = new Set(channels.map((c) => channelScope(c.id)));
    for (const scope of Object.keys(cursors)) if (!live.has(scope)) yield { kind: 'scopeGone', scope };
    for (const c of channels) yield* this.channel(teamId, c, cursors[channelScope(c.id)]);
  }

  private async *channel(teamId: string, c: Channel, cursor: string | undefined): AsyncGenerator<SourceChange> {
    const scope = channelScope(c.id);
    const base = `/teams/${teamId}/channels/${encodeURIComponent(c.id)}/messages`;
    const windowStart = (this.ctx.now ?? new Date()).getTime() - TEAMS_DELTA_WINDOW_DAYS * 86_400_000;
    const since = cursor ? /lastModifiedDateTime gt ([0-9TZ:.+-]+)/.exec(decodeURIComponent(cursor))?.[1] : undefined;
    if (cursor && !(since && Date.parse(since) < windowStart)) {
      try {
        yield* this.delta(teamId, c, base, cursor);
        return;
      } catch (e) {
        if (!isGraphReadFailure(e)) throw e;
        if (e.code !== 'RESYNC_REQUIRED') {
          yield e.code === 'NOT_FOUND' ? { kind: 'scopeGone', scope } : { kind: 'scopeFailed', scope, reason: e.message };
          return;
        }
        yield { kind: 'resync', scope };
      }
    }
    try {
      yield* this.fullListing(teamId, c, base);
    } catch (e) {
      if (!isGraphReadFailure(e)) throw e;
      yield { kind: 'scopeFailed', scope, reason: e.message };
    }
  }

  /** The whole channel: every root with its replies (expanded; a thread with more is read through /replies). */
  private async *fullListing(teamId: string, c: Channel, base: string): AsyncGenerator<SourceChange> {
    const scope = channelScope(c.id);
    const started = (this.ctx.now ?? new Date()).getTime();
    let url: string | undefined = `${base}?$expand=replies&$top=50`;
    while (url) {
      const page: Record<string, unknown> = await getJson<Record<string, unknown>>(this.ctx.conn, url, `the messages of channel ${c.displayName}`);
      if (!Array.isArray(page.value)) throw graphError('SOURCE', `the messages of channel ${c.displayName}: the page has no "value" list`);
      for (const root of page.value as unknown[]) {
        if (!isObject(root) || typeof root.id !== 'string') {
          yield { kind: 'failed', id: '?', scope, reason: 'a channel message without an id' };
          continue;
        }
        yield* this.message(teamId, c, root as Message);
        // $expand=replies gives up to 1,000 replies of a root; a longer thread is read on its own.
        const replies = Array.isArray(root.replies) ? (root.replies as Message[]) : [];
        const all = replies.length >= 1000 ? await this.replies(base, root.id as string) : replies;
        for (const r of all) yield* this.message(teamId, c, r);
      }
      url = typeof page['@odata.nextLink'] === 'string' ? page['@odata.nextLink'] : undefined;
    }
    const from = new Date(started - FILTER_MARGIN_MS).toISOString();
    yield { kind: 'scopeComplete', scope, full: true, cursor: `${base}/delta?$filter=${encodeURIComponent(`lastModifiedDateTime gt ${from}`)}` };
  }

  /** Changed roots since the cursor; each one's replies read again. */
  private async *delta(teamId: string, c: Channel, base: string, cursor: string): AsyncGenerator<SourceChange> {
    const scope = channelScope(c.id);
    const gate = teamsGateOf(this.ctx.conn);
    let url = cursor;
    for (;;) {
      await gate.take();
      const page: Record<string, unknown> = await getJson<Record<string, unknown>>(this.ctx.conn, url, `the message delta of channel ${c.displayName}`);
      if (!Array.isArray(page.value)) throw graphError('SOURCE', `the message delta of channel ${c.displayName}: the page has no "value" list`);
      for (const root of page.value as unknown[]) {
        if (!isObject(root) || typeof root.id !== 'string') {
          yield { kind: 'failed', id: '?', scope, reason: 'a channel message without an id' };
          continue;
        }
        yield* this.message(teamId, c, root as Message);
        if (root.deletedDateTime || root['@removed']) continue;
        for (const r of await this.replies(base, root.id as string)) yield* this.message(teamId, c, r);
      }
      if (typeof page['@odata.deltaLink'] === 'string') {
        yield { kind: 'scopeComplete', scope, full: false, cursor: page['@odata.deltaLink'] };
        return;
      }
      if (typeof page['@odata.nextLink'] !== 'string') {
        yield { kind: 'scopeFailed', scope, reason: `the message delta of channel ${c.displayName} ended without a delta link` };
        return;
      }
      url = page['@odata.nextLink'];
      yield { kind: 'page', scope, full: false, nextLink: url };
    }
  }

  private async replies(base: string, rootId: string): Promise<Message[]> {
    const gate = teamsGateOf(this.ctx.conn);
    const out: Message[] = [];
    let url: string | undefined = `${base}/${rootId}/replies?$top=50`;
    while (url) {
      await gate.take();
      const page: Record<string, unknown> = await getJson<Record<string, unknown>>(this.ctx.conn, url, `the replies of message ${rootId}`);
      out.push(...((Array.isArray(page.value) ? page.value : []) as Message[]).filter((m) => isObject(m) && typeof m.id === 'string'));
      url = typeof page['@odata.nextLink'] === 'string' ? page['@odata.nextLink'] : undefined;
    }
    return out;
  }

  /** One message (root or reply) as its item, and its hosted contents as items of their own. */
  private message(teamId: string, c: Channel, m: Message): Generator<SourceChange> {
    const replyToId = typeof m.replyToId === 'string' ? m.replyToId : null;
    return teamsMessageItems({
      conn: this.ctx.conn,
      scope: channelScope(c.id),
      id: messageItemId(c.id, m.id),
      message: m,
      where: { channelId: c.id },
      extra: { replyToId, subject: m.subject ?? null },
      hostedItemId: (h) => hostedItemId(c.id, m.id, h),
      path: `/teams/${teamId}/channels/${encodeURIComponent(c.id)}/messages/${replyToId ? `${replyToId}/replies/${m.id}` : m.id}`,
    });
  }
}
