import { Directory, RunLog, type Repository } from '../../repo';
import { BackupError } from '../../errors';
import { directoryPartition, mergeOutcomes, TENANT_DIRECTORY, type DirectoryUser, type LastRunRef, type LoggedOutcome, type RunTotals, type TenantUser } from '../../m365';

/**
 * What a run keeps in its run log (shared/repo/runLog.ts), so that orchestrations carry only
 * indexes and counts, never the user list: the roster (the run's users, in pages), one outcome
 * record per user, service and work unit, and a small summary. The tenant directory's `last`
 * record refers to the run (id and totals), never holds its report: nothing here grows with the
 * tenant in one row.
 */
const ROSTER_PAGE = 100;
/** A roster page stays far below Table Storage's 64 KiB a property even with the longest names. */
const ROSTER_PAGE_BYTES = 40_000;
const rosterKey = (page: number) => `users:${String(page).padStart(6, '0')}`;
const outcomeKey = (o: Pick<LoggedOutcome, 'userId' | 'service' | 'unit'>) => `run:${o.userId}:${o.service}:${String(o.unit ?? 1).padStart(4, '0')}`;
const SUMMARY_KEY = 'summary';
/** Failures kept in one outcome record (the rest are counted): one unit's record stays under 64 KiB. */
export const OUTCOME_FAILURES_KEPT = 100;
const REASON_CHARS = 300;

type RosterUser = Pick<TenantUser, 'id' | 'userPrincipalName' | 'displayName' | 'services'>;

export const tenantDirectory = (repo: Repository, tenant: string) => new Directory<DirectoryUser>(repo, directoryPartition(tenant), TENANT_DIRECTORY);

/**
 * Writes the run's roster as the users are listed: pages of 100 (user #i of the run is entry
 * i mod 100 of page ⌊i/100⌋), each written as soon as it is full, so no step holds the whole list.
 */
export class RosterWriter {
  private page: RosterUser[] = [];
  private pages = 0;
  count = 0;
  private readonly log: RunLog;

  constructor(repo: Repository, runId: string) {
    this.log = new RunLog(repo, runId);
  }

  async add(users: TenantUser[]): Promise<void> {
    for (const u of users) {
      this.page.push({ id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName, services: u.services });
      this.count++;
      if (this.page.length === ROSTER_PAGE) await this.flush();
    }
  }

  /** Writes the last (partial) page; returns the number of users. */
  async finish(): Promise<number> {
    if (this.page.length > 0) await this.flush();
    return this.count;
  }

  private async flush(): Promise<void> {
    let page = this.page;
    // Display names are for people (the directory keeps them whole): a page of very long ones is shortened, never refused.
    if (Buffer.byteLength(JSON.stringify(page)) > ROSTER_PAGE_BYTES) page = page.map((u) => ({ ...u, displayName: u.displayName.slice(0, 40) }));
    await this.log.put(rosterKey(this.pages++), page);
    this.page = [];
  }
}

/** Stores a whole list as the run's roster (small lists; a tenant run streams through RosterWriter). */
export async function writeRoster(repo: Repository, runId: string, users: TenantUser[]): Promise<number> {
  const w = new RosterWriter(repo, runId);
  await w.add(users);
  return w.finish();
}

/**
 * Roster pages this process has read, by repository, run and page. A roster is written once by the
 * run's begin step, before any unit starts, and never changes after: a unit (and the user-range step
 * before it) need not read its page again. Measured by bench:scale at 20 users: 5 of an unchanged
 * incremental's 33 table requests per user were re-reads of the same page. Bounded (a worker serves
 * many runs); a page is small (<= 40 KB).
 */
const ROSTER_CACHE_PAGES = 64;
/** Pages read or being read: the activities a window starts at once share one read (bench:scale, 20 users: 8 reads of one page, one per slot). */
const rosterCache = new Map<string, Promise<RosterUser[] | undefined>>();

async function rosterPage(repo: Repository, runId: string, page: number): Promise<RosterUser[] | undefined> {
  const key = `${repo.config.repositoryId}\0${runId}\0${page}`;
  const hit = rosterCache.get(key);
  if (hit) {
    rosterCache.delete(key); // most recently used last
    rosterCache.set(key, hit);
    return hit;
  }
  const read = new RunLog(repo, runId).get<RosterUser[]>(rosterKey(page));
  rosterCache.set(key, read);
  if (rosterCache.size > ROSTER_CACHE_PAGES) rosterCache.delete(rosterCache.keys().next().value!);
  // A failed or missing page is not remembered: the next caller reads again.
  const forget = () => rosterCache.get(key) === read && rosterCache.delete(key);
  const value = await read.catch((e: unknown) => {
    forget();
    throw e;
  });
  if (!value) forget();
  return value;
}

/** The run's user at `index` (0-based), read from its roster page. */
export async function rosterUser(repo: Repository, runId: string, index: number): Promise<TenantUser> {
  const page = await rosterPage(repo, runId, Math.floor(index / ROSTER_PAGE));
  const u = page?.[index % ROSTER_PAGE];
  if (!u) throw new Error(`Run ${runId} has no user #${index} in its roster.`);
  return u;
}

/** The whole roster (small runs and tests only: a tenant run never needs it in one piece). */
export async function readRoster(repo: Repository, runId: string): Promise<TenantUser[]> {
  const pages = await new RunLog(repo, runId).list<RosterUser[]>('users:');
  return pages.flatMap((p) => p.value);
}

/**
 * Unchanged units are recorded in batches, not one row each: an unchanged, failure-free (user,
 * service) of a single work unit is one entry of a batch row `run:~<batch key>:<part>` (a user
 * range of the Function App, a group of users of the CLI), written once the batch is known. Rows
 * sort after every user's own rows ('~' above any id). Measured by bench:scale (20 users,
 * unchanged incremental): 4.1 of 15.5 storage requests per user were one outcome row per unit.
 * Changed, failed and continued units keep their own row (a failure is always recorded on its own).
 */
export const UNCHANGED_BATCH_PREFIX = 'run:~';
/** Entries of one batch row at most, and its sealed body's budget: a row stays far below 64 KiB. */
const BATCH_ENTRIES = 100;
const BATCH_BYTES = 40_000;

/** One unchanged (user, service) in a batch row. */
export interface UnchangedEntry {
  userId: string;
  userPrincipalName: string;
  service: LoggedOutcome['service'];
  snapshot: number;
  items: number;
}

interface UnchangedBatch {
  host: string;
  entries: UnchangedEntry[];
}

const batchKeyPattern = /^[a-z0-9]{1,40}$/;

/**
 * Records a batch of unchanged (user, service) outcomes under `batchKey` (unique in the run, e.g.
 * the range's first roster index): rows of at most 100 entries and 40 KB. Writing the same batch
 * again (a retried step) replaces its rows.
 */
export async function recordUnchangedOutcomes(repo: Repository, runId: string, batchKey: string, entries: UnchangedEntry[], host: string): Promise<number> {
  if (!batchKeyPattern.test(batchKey)) throw new Error(`"${batchKey}" is not a batch key.`);
  const log = new RunLog(repo, runId);
  const rows: UnchangedEntry[][] = [];
  let row: UnchangedEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const entry = { ...e, userPrincipalName: e.userPrincipalName.slice(0, REASON_CHARS) };
    const size = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (row.length === BATCH_ENTRIES || (row.length > 0 && bytes + size > BATCH_BYTES)) {
      rows.push(row);
      row = [];
      bytes = 0;
    }
    row.push(entry);
    bytes += size;
  }
  if (row.length > 0) rows.push(row);
  for (let part = 0; part < rows.length; part++) await log.put(`${UNCHANGED_BATCH_PREFIX}${batchKey}:${String(part).padStart(4, '0')}`, { host, entries: rows[part]! } satisfies UnchangedBatch);
  return rows.length;
}

const batchLine = (host: string, e: UnchangedEntry): ReportLine => ({
  userId: e.userId,
  userPrincipalName: e.userPrincipalName,
  service: e.service,
  status: 'complete',
  snapshot: e.snapshot,
  items: e.items,
  fetched: 0,
  fetchedBytes: 0,
  removed: 0,
  failed: 0,
  unchanged: true,
  unit: 1,
  units: 1,
  failures: [],
  host,
});

/** One work unit's outcome (a retried unit replaces its own record); its failures are capped so the row stays small. */
export async function recordServiceOutcome(repo: Repository, runId: string, o: LoggedOutcome): Promise<void> {
  const failures = o.failures.slice(0, OUTCOME_FAILURES_KEPT).map((f) => ({ id: f.id.slice(0, REASON_CHARS), reason: f.reason.slice(0, REASON_CHARS) }));
  const omitted = o.failures.length - failures.length;
  await new RunLog(repo, runId).put(outcomeKey(o), { ...o, failures, ...(omitted > 0 ? { failuresOmitted: omitted } : {}) });
}

export type ReportLine = LoggedOutcome & { failuresOmitted?: number };

export interface RunReportPage {
  lines: ReportLine[];
  /** Cursor of the next page (opaque); absent on the last one. */
  next?: string;
}

/** Report lines per page by default and at most. */
export const REPORT_PAGE = 200;

const encodeCursor = (rowKey: string) => Buffer.from(rowKey).toString('base64url');
/** A cursor: after a (user, service) (`run:<user>:<service>;`), or from entry #n of a batch row (`run:~<key>:<part>#<n>`). */
function decodeCursor(cursor: string): { after: string; batchRow?: string; skip: number } {
  const rk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (/^run:[^:~][^:]{0,199}:[a-z]{1,20};$/.test(rk)) return { after: rk, skip: 0 };
  const m = /^(run:~[a-z0-9]{1,40}:\d{4})#(\d{1,4})$/.exec(rk);
  if (m) return { after: m[1]!, batchRow: m[1]!, skip: Number(m[2]) };
  throw new BackupError('USAGE', 'The report cursor is not valid (use the "next" value of the previous page).');
}

/**
 * One page of the run's report: one line per user and service (work units merged: counts add up,
 * the last unit's snapshot stands), in the run log's order (user id, service), then the unchanged
 * (user, service) lines of the batch rows. Pages end at a (user, service) boundary, so a line is
 * never split between pages.
 */
export async function readRunReportPage(repo: Repository, runId: string, o: { cursor?: string; limit?: number } = {}): Promise<RunReportPage> {
  const limit = Math.max(1, Math.min(o.limit ?? REPORT_PAGE, REPORT_PAGE));
  const from = o.cursor ? decodeCursor(o.cursor) : undefined;
  const lines: ReportLine[] = [];
  let current: { key: string; line: ReportLine } | undefined;
  for await (const r of new RunLog(repo, runId).records<ReportLine & UnchangedBatch>('run:', from?.after, { inclusive: from?.batchRow !== undefined })) {
    if (r.key.startsWith(UNCHANGED_BATCH_PREFIX)) {
      if (current) {
        lines.push(current.line);
        if (lines.length === limit) return { lines, next: encodeCursor(`${current.key};`) };
        current = undefined;
      }
      const entries = r.value.entries ?? [];
      for (let i = r.key === from?.batchRow ? from.skip : 0; i < entries.length; i++) {
        if (lines.length === limit) return { lines, next: encodeCursor(`${r.key}#${i}`) };
        lines.push(batchLine(r.value.host, entries[i]!));
      }
      continue;
    }
    const key = r.key.slice(0, r.key.lastIndexOf(':'));
    if (current?.key === key) {
      current.line = mergeLine(current.line, r.value);
      continue;
    }
    if (current) lines.push(current.line);
    if (lines.length === limit) return { lines, next: encodeCursor(`${current!.key};`) };
    current = { key, line: mergeLine(undefined, r.value) };
  }
  if (current) lines.push(current.line);
  return { lines };
}

function mergeLine(prev: ReportLine | undefined, o: ReportLine): ReportLine {
  const omitted = (prev?.failuresOmitted ?? 0) + (o.failuresOmitted ?? 0);
  return { ...mergeOutcomes(prev, o), failures: [...(prev?.failures ?? []), ...o.failures], ...(omitted ? { failuresOmitted: omitted } : {}) };
}

/** Every line of the run's report, sorted by UPN (small runs and tests; readers of big runs page). */
export async function readRunLog(repo: Repository, runId: string): Promise<ReportLine[]> {
  const out: ReportLine[] = [];
  let cursor: string | undefined;
  do {
    const p = await readRunReportPage(repo, runId, { cursor });
    out.push(...p.lines);
    cursor = p.next;
  } while (cursor);
  return out.sort((a, b) => a.userPrincipalName.localeCompare(b.userPrincipalName) || a.service.localeCompare(b.service));
}

/** The run's summary: counts only. */
export interface RunSummary extends LastRunRef {
  tenant: string;
  started?: string;
  users: number;
  graph?: { requests: number; throttled: number; retries: number };
}

export async function readRunSummary(repo: Repository, runId: string): Promise<RunSummary | undefined> {
  return new RunLog(repo, runId).get<RunSummary>(SUMMARY_KEY);
}

/**
 * Records the end of a run: its summary row in the run log, and the tenant directory's `last`
 * record (the run id and totals). The directory itself was updated while the users were listed.
 */
export async function recordRun(repo: Repository, summary: RunSummary): Promise<void> {
  await new RunLog(repo, summary.runId).put(SUMMARY_KEY, summary);
  await tenantDirectory(repo, summary.tenant).putRecord('last', { runId: summary.runId, status: summary.status, finished: summary.finished, totals: summary.totals } satisfies LastRunRef);
}

/** The tenant's last recorded run (id, status, totals), or undefined. */
export async function lastRun(repo: Repository, tenant: string): Promise<LastRunRef | undefined> {
  return tenantDirectory(repo, tenant).getRecord<LastRunRef>('last');
}

/**
 * After a run: users whose work unit failed as a whole (a mailbox or drive not found, or any other
 * unit-level failure) are marked to be probed again at the next run, so the directory is corrected
 * (a removed mailbox stops being backed up; a transient failure costs one probe). Reads the run log
 * page by page.
 */
export async function markFailedUnitsForProbe(repo: Repository, tenant: string, runId: string): Promise<number> {
  const ids = new Set<string>();
  for await (const r of new RunLog(repo, runId).records<LoggedOutcome>('run:'))
    if (!r.key.startsWith(UNCHANGED_BATCH_PREFIX) && r.value.status === 'failed' && r.value.failures.some((f) => f.id === `(${r.value.service})`)) ids.add(r.value.userId);
  return markForProbe(repo, tenant, [...ids]);
}

export async function markForProbe(repo: Repository, tenant: string, userIds: string[]): Promise<number> {
  const dir = tenantDirectory(repo, tenant);
  const changes: { value: DirectoryUser; previous: DirectoryUser }[] = [];
  for (const id of userIds) {
    const u = await dir.get(id);
    if (u && u.probed !== undefined) changes.push({ value: { ...u, probed: undefined }, previous: u });
  }
  await dir.put(changes);
  return changes.length;
}

export type { RunTotals };
