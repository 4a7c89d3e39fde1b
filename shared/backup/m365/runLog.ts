import { open, seal } from '../../crypto';
import { Catalog, type Repository } from '../../repo';
import type { Service } from '../../graph';
import { directoryPartition, type DirectoryState, type DirectoryUser } from './partitions';

/** What one work unit (a service of a user) did: counts only, small enough for Durable history. */
export interface ServiceOutcome {
  service: Service;
  status: 'complete' | 'partial' | 'failed';
  snapshot: number;
  items: number;
  fetched: number;
  fetchedBytes: number;
  removed: number;
  failed: number;
  /** Work units this service took (each one commits a snapshot). */
  units?: number;
}

/** The run log's row: the outcome with who it was for and what failed (personal data: sealed). */
export interface LoggedOutcome extends ServiceOutcome {
  unit?: number;
  userId: string;
  userPrincipalName: string;
  failures: { id: string; reason: string }[];
  host: string;
}

const pk = (runId: string) => `run.${runId}`;
const aad = (runId: string, rk: string) => Buffer.from(`run/${runId}/${rk}`);

/**
 * The log of a pipeline run (one row per user and service, in the tenant repository's snapshots
 * table under PartitionKey "run.<runId>"), sealed with the pack-index key: UPNs and failure reasons
 * are personal data. Orchestrations carry only counts; the report is read from here.
 */
export async function recordServiceOutcome(repo: Repository, runId: string, o: LoggedOutcome): Promise<void> {
  const rk = `run:${o.userId}:${o.service}:${String(o.unit ?? 1).padStart(4, '0')}`;
  await repo.tables.upsert(repo.layout.snapshotTable, { partitionKey: pk(runId), rowKey: rk, body: seal(repo.keys.indexKey, Buffer.from(JSON.stringify(o)), aad(runId, rk)) });
}

export async function readRunLog(repo: Repository, runId: string): Promise<LoggedOutcome[]> {
  const out: LoggedOutcome[] = [];
  for await (const row of repo.tables.query(repo.layout.snapshotTable, { filter: `PartitionKey eq '${pk(runId).replace(/'/g, "''")}'` }))
    out.push(JSON.parse(open(repo.keys.indexKey, Buffer.from(row.body as Uint8Array), aad(runId, row.rowKey), `run log ${runId}`).toString('utf8')) as LoggedOutcome);
  // Several work units of one service are one line of the report: counts add up, the last unit's snapshot stands.
  const merged = new Map<string, LoggedOutcome>();
  for (const o of out.sort((a, b) => (a.unit ?? 1) - (b.unit ?? 1))) {
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
export async function recordRun(repo: Repository, tenant: string, users: DirectoryUser[], lastReport: unknown): Promise<void> {
  const catalog = new Catalog(repo, directoryPartition(tenant));
  const prev = (await catalog.readState<DirectoryState>()) ?? { users: [] };
  const byId = new Map(prev.users.map((u) => [u.id, u]));
  for (const u of users) byId.set(u.id, { id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName, services: u.services });
  await catalog.writeState({ users: [...byId.values()], lastReport } satisfies DirectoryState);
}

/** A service's outcome over several work units: counts add up, the later unit's snapshot and status stand. */
export function mergeOutcomes<T extends ServiceOutcome>(earlier: T | undefined, later: T): T {
  if (!earlier) return { ...later, units: later.units ?? 1 };
  return {
    ...later,
    fetched: earlier.fetched + later.fetched,
    fetchedBytes: earlier.fetchedBytes + later.fetchedBytes,
    removed: earlier.removed + later.removed,
    failed: earlier.failed + later.failed,
    units: (earlier.units ?? 1) + (later.units ?? 1),
  };
}
