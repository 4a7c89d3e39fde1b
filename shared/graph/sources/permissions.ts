import type { GraphConnection } from '../connection';
import { getJson, isGraphReadFailure } from '../requests';
import { isObject, type SourceChange } from './types';

/** The id of the record holding a drive item's sharing permissions. */
export const permissionsId = (itemId: string) => `perm:${itemId}`;

/** What an admin needs to see of one permission: who (user, group, link), with which roles, how. */
function summary(p: unknown): Record<string, unknown> | undefined {
  if (!isObject(p) || typeof p.id !== 'string') return undefined;
  const who = (v: unknown) => (isObject(v) ? (isObject(v.user) ? v.user : isObject(v.group) ? v.group : isObject(v.siteUser) ? v.siteUser : v) : undefined);
  return {
    id: p.id,
    roles: Array.isArray(p.roles) ? p.roles : [],
    ...(isObject(p.link) ? { link: { type: p.link.type ?? null, scope: p.link.scope ?? null, webUrl: p.link.webUrl ?? null } } : {}),
    ...(p.grantedToV2 !== undefined ? { grantedTo: who(p.grantedToV2) ?? null } : p.grantedTo !== undefined ? { grantedTo: who(p.grantedTo) ?? null } : {}),
    ...(Array.isArray(p.grantedToIdentitiesV2) ? { grantedToIdentities: p.grantedToIdentitiesV2.map(who) } : {}),
    ...(isObject(p.inheritedFrom) ? { inheritedFrom: p.inheritedFrom.path ?? p.inheritedFrom.id ?? null } : {}),
    ...(typeof p.expirationDateTime === 'string' ? { expirationDateTime: p.expirationDateTime } : {}),
    ...(p.hasPassword !== undefined ? { hasPassword: p.hasPassword } : {}),
  };
}

/**
 * Adds each drive item's sharing permissions (GET /items/{id}/permissions, those set on the item
 * itself: links and direct grants) as a metadata record beside it: `perm:<item id>`, in the item's
 * scope, versioned by the item's eTag; an item shared with no one has none. Only items a
 * delta reports (new or changed ones; every item on a full listing) are asked, one request each.
 * A sharing change alone does not change an item's eTag, so it is seen when the item next changes
 * or on the next full listing (docs/repository-format.md, "Sharing permissions").
 */
export async function* withPermissions(conn: GraphConnection, feed: AsyncIterable<SourceChange>, itemPath: (id: string) => string): AsyncGenerator<SourceChange> {
  for await (const c of feed) {
    yield c;
    if (c.kind === 'removed') yield { kind: 'removed', id: permissionsId(c.id), scope: c.scope };
    if (c.kind !== 'item' || c.meta.parentId === null || (c.meta.type !== 'file' && c.meta.type !== 'folder')) continue;
    try {
      const body = await getJson<{ value?: unknown[] }>(conn, `${itemPath(c.id)}/permissions`, `the permissions of drive item ${c.id}`);
      // Inherited permissions (the site's owners and members, the drive owner) repeat on every item below where they are set: kept where they are set only.
      const own = (Array.isArray(body.value) ? body.value : []).filter((p) => !(isObject(p) && isObject(p.inheritedFrom)));
      const permissions = own.map(summary).filter((p) => p !== undefined);
      // An item shared with no one has no record (one it had ends: its sharing was removed).
      if (permissions.length === 0) yield { kind: 'removed', id: permissionsId(c.id), scope: c.scope };
      else yield { kind: 'item', id: permissionsId(c.id), scope: c.scope, version: c.version, meta: { type: 'permissions', itemId: c.id, permissions } };
    } catch (e) {
      if (!isGraphReadFailure(e)) throw e;
      yield { kind: 'failed', id: permissionsId(c.id), scope: c.scope, reason: e.message };
    }
  }
}
