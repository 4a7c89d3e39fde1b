import type { GraphConnection } from './connection';
import { isGraphReadFailure, pages } from './requests';
import { scopeEntryId, SCOPE_SERVICE, type ScopeKind, type TenantUser } from '../m365';

interface Found {
  kind: ScopeKind;
  id: string;
  /** What the CLI's --site/--team/--group match besides the id: the site's URL, the group's mail, the team's name. */
  name: string;
  displayName: string;
  /** The request that says whether the app may read the scope (403: listed, skipped). */
  probe: string;
}

const MAX_BATCH = 20;

interface BatchAnswer {
  responses?: { id: string; status: number; body?: unknown }[];
}

/**
 * The tenant's sites (every site from /sites/getAllSites except users' personal OneDrive sites,
 * which are backed up under `onedrive`), Microsoft 365 groups and teams, as roster entries with
 * the one service each has (sharepoint, groups, teams). Each is probed once (JSON batches of 20):
 * one the app may not read (403) is listed with no service and a note saying why, so the run
 * reports it as skipped instead of failing it. A listing that fails (e.g. Sites.Read.All not
 * granted) adds a note-only entry nowhere: it is returned in `problems`.
 */
export async function discoverScopes(conn: GraphConnection, kinds: readonly ScopeKind[] = ['site', 'group', 'team']): Promise<{ scopes: TenantUser[]; problems: string[] }> {
  const found: Found[] = [];
  const problems: string[] = [];
  const list = async (kind: ScopeKind, url: string, what: string, map: (v: Record<string, unknown>) => Found | undefined) => {
    if (!kinds.includes(kind)) return;
    try {
      for await (const page of pages<Record<string, unknown>>(conn, url, what)) for (const v of page.value) {
        const f = map(v);
        if (f) found.push(f);
      }
    } catch (e) {
      if (!isGraphReadFailure(e)) throw e;
      problems.push(`${what}: ${e.message}`);
    }
  };
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  await list('site', '/sites/getAllSites?$select=id,name,displayName,webUrl,isPersonalSite&$top=200', 'the sites of the tenant', (s) =>
    s.isPersonalSite === true || /-my\.sharepoint\.[a-z]+\/personal\//i.test(str(s.webUrl)) || !str(s.id)
      ? undefined
      : { kind: 'site', id: str(s.id), name: str(s.webUrl) || str(s.id), displayName: str(s.displayName) || str(s.name) || str(s.id), probe: `/sites/${str(s.id)}/drives?$select=id&$top=1` },
  );
  await list('group', "/groups?$filter=groupTypes/any(c:c eq 'Unified')&$select=id,displayName,mail&$top=999", 'the Microsoft 365 groups of the tenant', (g) =>
    !str(g.id) ? undefined : { kind: 'group', id: str(g.id), name: str(g.mail) || str(g.id), displayName: str(g.displayName) || str(g.mail), probe: `/groups/${str(g.id)}/threads?$top=1` },
  );
  await list('team', '/teams?$select=id,displayName&$top=999', 'the teams of the tenant', (t) =>
    !str(t.id) ? undefined : { kind: 'team', id: str(t.id), name: str(t.displayName) || str(t.id), displayName: str(t.displayName) || str(t.id), probe: `/teams/${str(t.id)}/channels?$select=id&$top=1` },
  );

  const denied = new Map<Found, string>();
  for (let i = 0; i < found.length; i += MAX_BATCH) {
    const group = found.slice(i, i + MAX_BATCH);
    let answer: BatchAnswer = {};
    try {
      answer = (await conn.client.api(conn.url('/$batch')).post({ requests: group.map((f, j) => ({ id: String(j), method: 'GET', url: f.probe })) })) as BatchAnswer;
    } catch {
      answer = {}; // the probes are then taken as readable; a refused scope then fails its own unit
    }
    for (const r of answer.responses ?? []) {
      const f = group[Number(r.id)];
      if (f && (r.status === 403 || r.status === 401)) denied.set(f, `${SCOPE_SERVICE[f.kind]}: the app may not read this ${f.kind} (HTTP ${r.status}); it is skipped`);
    }
  }
  const scopes: TenantUser[] = found.map((f) => {
    const note = denied.get(f);
    return { id: scopeEntryId(f.kind, f.id), userPrincipalName: f.name, displayName: f.displayName, services: note ? [] : [SCOPE_SERVICE[f.kind]], ...(note ? { notes: [note] } : {}) };
  });
  return { scopes, problems };
}
