import { BackupError } from '../../errors';
import { discoverScopes, probeServices, userPages, type GraphConnection, type GraphUser, type UserServices } from '../../graph';
import { matchUsers, SCOPE_SERVICE, type DirectoryUser, type ScopeKind, type Service, type TenantUser } from '../../m365';
import type { Repository } from '../../repo';
import { tenantDirectory } from './runRecords';

/** A known user's services are probed again after this many days (DIRECTORY_PROBE_DAYS). */
export const DEFAULT_PROBE_DAYS = 7;

export interface TenantUsersOptions {
  tenantName: string;
  /** One user only (id or UPN). */
  user?: string;
  /** Probe a known user's services again after this many days (0: every run). */
  probeDays?: number;
  now?: Date;
  /** The services of the run: sites, groups and teams are listed only when their service is among them (default: all). */
  services?: readonly Service[];
  /** Receives the users in listing order, one Graph page at a time (e.g. the roster writer), then the sites, groups and teams. */
  onUsers: (users: TenantUser[]) => Promise<void>;
}

export interface TenantUsersResult {
  users: number;
  /** Users whose drive and mailbox were probed this time (new, stale, or marked by a failed unit). */
  probed: number;
  /** Directory rows written (new, renamed, re-probed or changed users). */
  written: number;
  /** Sites, groups and teams listed (each a roster entry after the users), and those the app may not read. */
  scopes?: number;
  skippedScopes?: number;
  /** Scope listings that failed (e.g. a permission not granted): named in the run's report. */
  problems?: string[];
}

const servicesOf = (p: UserServices): Service[] => [...(p.drive ? (['onedrive'] as const) : []), ...(p.mailbox ? (['mail', 'calendar', 'contacts'] as const) : [])];

/**
 * The tenant's users (or the one named by id or UPN) and the services each has, page by page.
 * The tenant directory (one row per user) remembers each user's services: only new users, users
 * whose last probe is older than `probeDays`, users marked by a failed unit, and users who gained
 * a mail address since are probed (in JSON batches); every other user costs nothing but its share
 * of the listing. The directory is updated as the pages go (merged: users not listed stay; a
 * renamed UPN replaces the old one). Used by the CLI run and by the Function App's first activity.
 */
export async function tenantUsers(repo: Repository, conn: GraphConnection, o: TenantUsersOptions): Promise<TenantUsersResult> {
  const dir = tenantDirectory(repo, o.tenantName);
  await dir.migrate();
  const now = o.now ?? new Date();
  const staleBefore = now.getTime() - (o.probeDays ?? DEFAULT_PROBE_DAYS) * 86_400_000;
  // The directory read once, page by page, for the whole tenant (one query page per 1,000 users);
  // for one user, one point read.
  let known: Map<string, DirectoryUser> | undefined;
  const knownOf = async (id: string) => {
    if (o.user !== undefined) return dir.get(id);
    if (!known) {
      known = new Map();
      for await (const u of dir.members()) known.set(u.id, u);
    }
    return known.get(id);
  };
  const result: TenantUsersResult = { users: 0, probed: 0, written: 0 };
  for await (const page of userPages(conn)) {
    const listed = matchUsers(page, o.user);
    if (listed.length === 0) continue;
    const prev = new Map<string, DirectoryUser | undefined>();
    for (const u of listed) prev.set(u.id, await knownOf(u.id));
    const toProbe = listed.filter((u) => needsProbe(prev.get(u.id), u, staleBefore));
    const probes = toProbe.length > 0 ? await probeServices(conn, toProbe) : new Map<string, UserServices>();
    result.probed += toProbe.length;
    const changes: { value: DirectoryUser; previous?: DirectoryUser }[] = [];
    const users: TenantUser[] = [];
    for (const u of listed) {
      const before = prev.get(u.id);
      const p = probes.get(u.id);
      const next: DirectoryUser = p
        ? { id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName, services: servicesOf(p), ...(p.notes.length ? { notes: p.notes } : {}), ...(p.purpose ? { mailbox: p.purpose } : {}), probed: now.toISOString(), hasMail: !!u.mail }
        : { ...before!, userPrincipalName: u.userPrincipalName, displayName: u.displayName, hasMail: !!u.mail };
      if (!before || p || changed(before, next)) changes.push({ value: next, previous: before });
      users.push({ id: next.id, userPrincipalName: next.userPrincipalName, displayName: next.displayName, services: next.services, ...(next.notes ? { notes: next.notes } : {}), ...(next.mailbox ? { mailbox: next.mailbox } : {}) });
    }
    await dir.put(changes);
    result.written += changes.length;
    result.users += users.length;
    await o.onUsers(users);
    if (o.user !== undefined && result.users > 0) break;
  }
  if (o.user !== undefined && result.users === 0) throw new BackupError('NOT_FOUND', `Tenant "${o.tenantName}" has no user "${o.user}".`);
  if (o.user === undefined) {
    // Sites, groups and teams: roster entries after the users, remembered in the directory for restores.
    const kinds = (Object.keys(SCOPE_SERVICE) as ScopeKind[]).filter((k) => !o.services || o.services.includes(SCOPE_SERVICE[k]));
    if (kinds.length > 0) {
      const { scopes, problems } = await discoverScopes(conn, kinds);
      const changes: { value: DirectoryUser; previous?: DirectoryUser }[] = [];
      for (const s of scopes) {
        const before = await knownOf(s.id);
        const next: DirectoryUser = { ...s, probed: now.toISOString() };
        if (!before || before.userPrincipalName !== next.userPrincipalName || before.displayName !== next.displayName || before.services.join() !== next.services.join()) changes.push({ value: next, previous: before });
      }
      await dir.put(changes);
      result.written += changes.length;
      result.scopes = scopes.length;
      result.skippedScopes = scopes.filter((s) => s.services.length === 0).length;
      if (problems.length) result.problems = problems;
      if (scopes.length > 0) await o.onUsers(scopes);
    }
  }
  return result;
}

function needsProbe(before: DirectoryUser | undefined, u: GraphUser, staleBefore: number): boolean {
  if (!before || before.probed === undefined) return true;
  if (Date.parse(before.probed) < staleBefore) return true;
  // A user who gained a mail address may have gained a mailbox (a license): look at once.
  return before.hasMail === false && !!u.mail;
}

const changed = (a: DirectoryUser, b: DirectoryUser) => a.userPrincipalName !== b.userPrincipalName || a.displayName !== b.displayName || a.hasMail !== b.hasMail || a.mailbox !== b.mailbox;

/** The tenant's users as one list (the CLI run, which reports every user; a Function App run streams). */
export async function listTenantUsers(repo: Repository, conn: GraphConnection, o: Omit<TenantUsersOptions, 'onUsers'>): Promise<TenantUser[]> {
  const all: TenantUser[] = [];
  await tenantUsers(repo, conn, { ...o, onUsers: async (users) => void all.push(...users) });
  return all;
}
