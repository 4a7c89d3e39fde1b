import type { SimTenant } from '../tenant/model';
import { scopesOf } from '../tenant/sites';
import { HOSTED_SRC, type SimChannel, type SimChatMessage, type SimTeam } from '../tenant/teams';
import { deltaPage, listPage } from './delta';
import { graphError, json, type SimRequest, type SimResponse } from './http';
import type { RouteContext, RouteMatch } from './routes';
import { accessDenied } from './siteRoutes';

/** Channel message delta covers the last eight months only (older messages: list /messages). */
export const TEAMS_DELTA_WINDOW_MS = 240 * 86_400_000;

const notFound = () => graphError(404, 'NotFound', 'Resource not found.');

const channelJson = (team: SimTeam, c: SimChannel) => ({
  id: c.id,
  displayName: c.displayName,
  description: null,
  membershipType: c.membershipType,
  createdDateTime: c.created,
  webUrl: `https://teams.microsoft.com/l/channel/${encodeURIComponent(c.id)}/${encodeURIComponent(c.displayName)}?groupId=${team.id}`,
});

function messageJson(origin: string, team: SimTeam, c: SimChannel, m: SimChatMessage): Record<string, unknown> {
  const base = `${origin}/v1.0/teams/${team.id}/channels/${encodeURIComponent(c.id)}/messages/${m.replyToId ? `${m.replyToId}/replies/${m.id}` : m.id}`;
  let html = m.html;
  for (const hid of m.hosted.keys()) html = html.split(HOSTED_SRC(hid)).join(`${base}/hostedContents/${hid}/$value`);
  return {
    id: m.id,
    replyToId: m.replyToId,
    etag: String(m.version),
    messageType: 'message',
    createdDateTime: m.created,
    lastModifiedDateTime: m.lastModified,
    lastEditedDateTime: m.lastModified !== m.created && !m.deleted ? m.lastModified : null,
    deletedDateTime: m.deleted,
    subject: m.subject,
    importance: 'normal',
    from: { user: { id: m.from.id, displayName: m.from.displayName, userIdentityType: 'aadUser' }, application: null, device: null },
    body: { contentType: 'html', content: html },
    channelIdentity: { teamId: team.id, channelId: c.id },
    attachments: [],
    mentions: [],
    reactions: [],
  };
}

/** Resolves /teams/...: teams, channels, messages (list, delta, replies) and hosted contents. */
export function matchTeamRoute(req: SimRequest, tenant: SimTenant, ctx: RouteContext, parts: string[]): RouteMatch | undefined {
  if (parts[0] !== 'teams') return undefined;
  const plain = (name: string, run: () => SimResponse): RouteMatch => ({ name, deltaWithToken: false, run });
  const teams = scopesOf(tenant).teams;
  if (parts.length === 1) return plain('teams', () => listPage(req, ctx.origin, [...teams.values()].map((t) => ({ id: t.id, displayName: t.displayName, description: null })), 100, 999));
  const team = teams.get(parts[1]!);
  if (!team) return plain('team', notFound);
  const guard = (run: () => SimResponse) => () => (team.denied ? accessDenied() : run());
  const rest = parts.slice(2);
  if (rest.length === 0) return plain('team', guard(() => json(200, { id: team.id, displayName: team.displayName })));
  if (rest[0] !== 'channels') return undefined;
  if (rest.length === 1) return plain('team.channels', guard(() => listPage(req, ctx.origin, [...team.channels.values()].map((c) => channelJson(team, c)), 100, 999)));
  const c = team.channels.get(rest[1]!);
  if (!c) return plain('team.channel', notFound);
  const roots = () => [...c.messages.values()].filter((m) => !m.replyToId);
  const repliesOf = (id: string) => [...c.messages.values()].filter((m) => m.replyToId === id);
  const render = (m: SimChatMessage) => messageJson(ctx.origin, team, c, m);
  const r = rest.slice(2);
  if (r.length === 0) return plain('team.channel', guard(() => json(200, channelJson(team, c))));
  if (r[0] !== 'messages') return undefined;
  if (r.length === 1) {
    const expand = /replies/.test(req.url.searchParams.get('$expand') ?? '');
    return plain('channel.messages', guard(() => listPage(req, ctx.origin, roots().map((m) => ({ ...render(m), ...(expand ? { replies: repliesOf(m.id).map(render) } : {}) })), 20, 50)));
  }
  if (r[1] === 'delta' && r.length === 2) {
    const withToken = req.url.searchParams.has('$deltatoken') || req.url.searchParams.has('$skiptoken');
    const since = /lastModifiedDateTime gt ([0-9TZ:.+-]+)/.exec(req.url.searchParams.get('$filter') ?? '')?.[1];
    return {
      name: 'channel.delta',
      deltaWithToken: withToken,
      teamsMessages: true,
      run: guard(() => {
        const windowStart = Date.now() - TEAMS_DELTA_WINDOW_MS;
        const after = since ? Math.max(Date.parse(since), windowStart) : windowStart;
        return deltaPage(req, ctx.origin, tenant.version, {
          live: roots().filter((m) => Date.parse(m.lastModified) > after || repliesOf(m.id).some((x) => Date.parse(x.lastModified) > after)),
          tombstones: [],
          render,
          removed: (id) => ({ id, '@removed': { reason: 'deleted' } }),
          defaultPageSize: 20,
          maxPageSize: 50,
          floor: ctx.floorOf(team.id),
          expiredCode: 'resyncRequired',
        });
      }),
    };
  }
  const m = r[1] ? c.messages.get(r[1]) : undefined;
  if (!m) return plain('channel.message', notFound);
  if (r.length === 2) return plain('channel.message', guard(() => json(200, render(m))));
  const hosted = (msg: SimChatMessage, tail: string[]): RouteMatch | undefined => {
    if (tail.length === 1) return plain('channel.hostedContents', guard(() => json(200, { value: [...msg.hosted.entries()].map(([id, h]) => ({ id, contentType: h.contentType })) })));
    const h = msg.hosted.get(tail[1]!);
    if (tail[2] === '$value' && tail.length === 3) return plain('channel.hostedContent', guard(() => (!h ? notFound() : { status: 200, headers: { 'Content-Type': h.contentType }, bytes: h.data })));
    return undefined;
  };
  if (r[2] === 'hostedContents') return hosted(m, r.slice(2));
  if (r[2] === 'replies' && r.length === 3) return { name: 'channel.replies', deltaWithToken: false, teamsMessages: true, run: guard(() => listPage(req, ctx.origin, repliesOf(m.id).map(render), 50, 50)) };
  if (r[2] === 'replies' && r[3]) {
    const reply = c.messages.get(r[3]);
    if (!reply || reply.replyToId !== m.id) return plain('channel.reply', notFound);
    if (r.length === 4) return plain('channel.reply', guard(() => json(200, render(reply))));
    if (r[4] === 'hostedContents') return hosted(reply, r.slice(4));
  }
  return undefined;
}
