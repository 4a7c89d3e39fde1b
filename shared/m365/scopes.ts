import type { Service } from './services';

/**
 * Tenant-level scopes: SharePoint sites, Microsoft 365 groups and teams are not users, but they
 * run through the same run model as users do (roster entry, work unit per service, outcome row,
 * unchanged-unit fast path). A scope is a roster/directory entry whose id carries its kind
 * ("site:<siteId>", "group:<groupId>", "team:<teamId>"); its partition is
 * m365/<tenant>/<sites|groups|teams>/<id>/<service>. Ids keep ':' (no '/': Table keys refuse it).
 */
export type ScopeKind = 'site' | 'group' | 'team';

export const SCOPE_SERVICE: Record<ScopeKind, Service> = { site: 'sharepoint', group: 'groups', team: 'teams' };
/** The partition segment and the restore folder of each kind. */
export const SCOPE_PLURAL: Record<ScopeKind, string> = { site: 'sites', group: 'groups', team: 'teams' };
export const SCOPE_DIR: Record<ScopeKind, string> = { site: 'Sites', group: 'Groups', team: 'Teams' };

export const scopeEntryId = (kind: ScopeKind, graphId: string) => `${kind}:${graphId}`;

/** The kind and Graph id of a scope entry's id; undefined for a user. */
export function scopeOf(entryId: string): { kind: ScopeKind; id: string } | undefined {
  const m = /^(site|group|team):(.+)$/.exec(entryId);
  return m ? { kind: m[1] as ScopeKind, id: m[2]! } : undefined;
}

/** Whether a service belongs to scopes (not to users). */
export const isScopeService = (s: Service) => (Object.values(SCOPE_SERVICE) as Service[]).includes(s);

/** Of `services`, those a directory entry can have: a site, group or team its one service; a user the per-user ones. */
export function servicesOfEntry(entryId: string, services: readonly Service[]): Service[] {
  const scope = scopeOf(entryId);
  return services.filter((s) => (scope ? s === SCOPE_SERVICE[scope.kind] : !isScopeService(s)));
}
