import { BackupError } from '../../errors';
import { matchUsers, scopeOf, type DirectoryUser, type ScopeKind } from '../../m365';

/** What `restore --site/--team/--group` name: an id (Graph's or the entry's) or a name (site URL or name, team name, group mail or name). */
export interface ScopeFilter {
  site?: string;
  team?: string;
  group?: string;
}

const FILTER_KIND: Record<keyof ScopeFilter, ScopeKind> = { site: 'site', team: 'team', group: 'group' };

function matchesScope(u: DirectoryUser, kind: ScopeKind, want: string): boolean {
  const s = scopeOf(u.id);
  if (!s || s.kind !== kind) return false;
  const w = want.trim().toLowerCase().replace(/\/+$/, '');
  return [u.id, s.id, u.userPrincipalName, u.displayName, u.userPrincipalName.split('/').pop() ?? ''].some((v) => v.toLowerCase().replace(/\/+$/, '') === w);
}

/**
 * The directory entries a restore names: the user (if given) and each site, team and group filter;
 * every filter must match something (NOT_FOUND otherwise, naming it).
 */
export async function selectEntries(all: Promise<DirectoryUser[]>, tenant: string, user: string | undefined, f: ScopeFilter): Promise<DirectoryUser[]> {
  const entries = await all;
  const out = new Map<string, DirectoryUser>();
  if (user !== undefined) {
    const found = matchUsers(entries.filter((u) => !scopeOf(u.id)), user);
    if (found.length === 0) throw new BackupError('NOT_FOUND', `Tenant "${tenant}" has no backed-up user "${user}".`);
    for (const u of found) out.set(u.id, u);
  }
  for (const key of Object.keys(FILTER_KIND) as (keyof ScopeFilter)[]) {
    const want = f[key];
    if (want === undefined) continue;
    const found = entries.filter((u) => matchesScope(u, FILTER_KIND[key], want));
    if (found.length === 0) throw new BackupError('NOT_FOUND', `Tenant "${tenant}" has no backed-up ${key} "${want}".`);
    for (const u of found) out.set(u.id, u);
  }
  return [...out.values()];
}
