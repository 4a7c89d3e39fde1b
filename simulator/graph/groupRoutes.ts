import type { SimTenant } from '../tenant/model';
import { scopesOf } from '../tenant/sites';
import type { SimGroup, SimPost, SimThread } from '../tenant/groups';
import { listPage } from './delta';
import { graphError, json, type SimRequest, type SimResponse } from './http';
import type { RouteContext, RouteMatch } from './routes';
import { accessDenied } from './siteRoutes';

const notFound = () => graphError(404, 'Request_ResourceNotFound', 'Resource does not exist or one of its queried reference-property objects are not present.');

const groupJson = (g: SimGroup) => ({
  id: g.id,
  displayName: g.displayName,
  mail: g.mail,
  mailEnabled: true,
  securityEnabled: false,
  groupTypes: ['Unified'],
  resourceProvisioningOptions: g.isTeam ? ['Team'] : [],
});

const threadJson = (t: SimThread) => ({
  id: t.id,
  topic: t.topic,
  hasAttachments: [...t.posts.values()].some((p) => p.attachments.length > 0),
  lastDeliveredDateTime: t.lastDeliveredDateTime,
  isLocked: false,
  uniqueSenders: [...new Set([...t.posts.values()].map((p) => p.from.name))],
  preview: [...t.posts.values()].at(-1)?.bodyHtml.replace(/<[^>]*>/g, '').slice(0, 100) ?? '',
});

const postJson = (p: SimPost) => ({
  '@odata.etag': `W/"${p.id}-${p.version}"`,
  id: p.id,
  changeKey: `${p.id}-${p.version}`,
  createdDateTime: p.receivedDateTime,
  lastModifiedDateTime: p.receivedDateTime,
  receivedDateTime: p.receivedDateTime,
  hasAttachments: p.attachments.length > 0,
  body: { contentType: 'html', content: p.bodyHtml },
  from: { emailAddress: { name: p.from.name, address: p.from.address } },
  sender: { emailAddress: { name: p.from.name, address: p.from.address } },
});

const attachmentJson = (a: SimPost['attachments'][number]) => ({
  '@odata.type': '#microsoft.graph.fileAttachment',
  id: a.id,
  name: a.name,
  contentType: a.contentType,
  size: a.data.length,
  isInline: false,
  contentBytes: a.data.toString('base64'),
});

/** Resolves /groups (Microsoft 365 groups) and their conversations: threads, posts, post attachments. */
export function matchGroupRoute(req: SimRequest, tenant: SimTenant, ctx: RouteContext, parts: string[]): RouteMatch | undefined {
  if (parts[0] !== 'groups') return undefined;
  const plain = (name: string, run: () => SimResponse): RouteMatch => ({ name, deltaWithToken: false, run });
  const groups = scopesOf(tenant).groups;
  if (parts.length === 1) return plain('groups', () => listPage(req, ctx.origin, [...groups.values()].map(groupJson), 100, 999));
  const g = groups.get(parts[1]!);
  if (!g) return plain('group', notFound);
  const guard = (run: () => SimResponse) => () => (g.denied ? accessDenied() : run());
  const rest = parts.slice(2);
  if (rest.length === 0) return plain('group', () => json(200, groupJson(g)));
  if (rest[0] !== 'threads') return undefined;
  if (rest.length === 1) return plain('group.threads', guard(() => listPage(req, ctx.origin, [...g.threads.values()].map(threadJson), 50, 999)));
  const t = g.threads.get(rest[1]!);
  if (!t) return plain('group.thread', notFound);
  if (rest.length === 2) return plain('group.thread', guard(() => json(200, threadJson(t))));
  if (rest[2] === 'posts' && rest.length === 3) return plain('group.posts', guard(() => listPage(req, ctx.origin, [...t.posts.values()].map(postJson), 50, 999)));
  const p = rest[2] === 'posts' && rest[3] ? t.posts.get(rest[3]) : undefined;
  if (!p) return plain('group.post', notFound);
  if (rest[4] === 'attachments' && rest.length === 5) return plain('group.attachments', guard(() => listPage(req, ctx.origin, p.attachments.map(attachmentJson), 50, 999)));
  return undefined;
}
