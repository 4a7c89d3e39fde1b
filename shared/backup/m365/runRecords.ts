import { Catalog, RunLog, type Repository } from '../../repo';
import { directoryPartition, mergeOutcomes, type DirectoryState, type LoggedOutcome, type TenantUser } from '../../m365';

/**
 * What a Function App run keeps in its run log (shared/repo/runLog.ts), so that orchestrations carry
 * only indexes and counts, never the user list: the roster (the run's users, in pages) and one
 * outcome record per user, service and work unit.
 */
const ROSTER_PAGE = 100;
const rosterKey = (page: number) => `users:${String(page).padStart(6, '0')}`;
const outcomeKey = (o: Pick<LoggedOutcome, 'userId' | 'service' | 'unit'>) => `run:${o.userId}:${o.service}:${String(o.unit ?? 1).padStart(4, '0')}`;

type RosterUser = Pick<TenantUser, 'id' | 'userPrincipalName' | 'displayName' | 'services'>;

/** Stores the run's users in pages of 100 (each row stays far below Table Storage's 64 KiB a property). */
export async function writeRoster(repo: Repository, runId: string, users: TenantUser[]): Promise<number> {
  const log = new RunLog(repo, runId);
  for (let page = 0; page * ROSTER_PAGE < users.length; page++) {
    const slice = users.slice(page * ROSTER_PAGE, (page + 1) * ROSTER_PAGE).map((u): RosterUser => ({ id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName, services: u.services }));
    await log.put(rosterKey(page), slice);
  }
  return users.length;
}

/** The run's user at `index` (0-based), read from its roster page. */
export async function rosterUser(repo: Repository, runId: string, index: number): Promise<TenantUser> {
  const page = await new RunLog(repo, runId).get<RosterUser[]>(rosterKey(Math.floor(index / ROSTER_PAGE)));
  const u = page?.[index % ROSTER_PAGE];
  if (!u) throw new Error(`Run ${runId} has no user #${index} in its roster.`);
  return u;
}

export async function readRoster(repo: Repository, runId: string): Promise<TenantUser[]> {
  const pages = await new RunLog(repo, runId).list<RosterUser[]>('users:');
  return pages.flatMap((p) => p.value);
}

/** One work unit's outcome (a retried unit replaces its own record). */
export async function recordServiceOutcome(repo: Repository, runId: string, o: LoggedOutcome): Promise<void> {
  await new RunLog(repo, runId).put(outcomeKey(o), o);
}

/** The run's report: one line per user and service, work units merged (counts add up, the last unit's snapshot stands). */
export async function readRunLog(repo: Repository, runId: string): Promise<LoggedOutcome[]> {
  const records = (await new RunLog(repo, runId).list<LoggedOutcome>('run:')).map((r) => r.value);
  const merged = new Map<string, LoggedOutcome>();
  for (const o of records.sort((a, b) => (a.unit ?? 1) - (b.unit ?? 1))) {
    const key = `${o.userId}/${o.service}`;
    const prev = merged.get(key);
    merged.set(key, { ...mergeOutcomes(prev, o), failures: [...(prev?.failures ?? []), ...o.failures] });
  }
  return [...merged.values()].sort((a, b) => a.userPrincipalName.localeCompare(b.userPrincipalName) || a.service.localeCompare(b.service));
}

/**
 * Records the end of a run: the tenant's user directory (merged: users not in this run stay) and the
 * last report. Restores and `snapshots` map UPNs to partitions through this directory.
 */
export async function recordRun(repo: Repository, tenant: string, users: TenantUser[], lastReport: unknown): Promise<void> {
  const catalog = new Catalog(repo, directoryPartition(tenant));
  const prev = (await catalog.readState<DirectoryState>()) ?? { users: [] };
  const byId = new Map(prev.users.map((u) => [u.id, u]));
  for (const u of users) byId.set(u.id, { id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName, services: u.services });
  await catalog.writeState({ users: [...byId.values()], lastReport } satisfies DirectoryState);
}
