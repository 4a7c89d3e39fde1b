import type { PrivateKey } from '../../../crypto';
import { BackupError, isBackupError } from '../../../errors';
import type { GraphConnection, Service } from '../../../graph';
import { partFailureReason, scopeOf, servicesOfEntry } from '../../../m365';
import { forEachConcurrent } from '../../../concurrency';
import { archiveState, ChunkReader, rehydratePacks, RestoreMapStore, saveUnitFailures, whileReading, type ChunkLocation, type Repository } from '../../../repo';
import { directoryUsers, readDirectory, type TenantSelection } from '../tenantPlan';
import { selectEntries } from '../scopeSelection';
import { itemContent } from './itemContent';
import { checkTargetServices, checkTargetSite, checkWriteRoles, resolveTargetUser } from './permissions';
import { addCounts, countFailure, emptyCounts, type ConflictMode, type RestoreDestination, type RestoreItem, type WriterCounts } from './serviceWriter';
import { writerFor } from './writers';
import { parsePathPrefix, planM365Write, UNIT_ITEMS, unitCount, type M365WritePlan, type PlannedWritePart } from './writePlan';
import './allWriters';

/** A restore into Microsoft 365 as asked (CLI flags or the HTTP body). */
export interface M365RestoreRequest extends TenantSelection {
  destination: Exclude<RestoreDestination, { kind: 'folder' }>;
  conflict: ConflictMode;
  /** A folder prefix ("Inbox/Projects"), as given. */
  path?: string;
}

export const CONFLICT_MODES: readonly ConflictMode[] = ['skip', 'rename', 'replace'];

export function parseConflict(v: string | undefined): ConflictMode {
  if (v === undefined) return 'skip';
  if (!(CONFLICT_MODES as readonly string[]).includes(v)) throw new BackupError('USAGE', `The conflict mode "${v.slice(0, 40)}" is not one of skip, rename, replace.`);
  return v as ConflictMode;
}

/** The folder a restore to another user writes into, in each service: "Restored from <upn> <date>". */
export const destinationRootName = (part: Pick<PlannedWritePart, 'sourceUpn' | 'time'>) => `Restored from ${part.sourceUpn} ${part.time.slice(0, 10)}`;

/**
 * Everything checked before anything is written: the path, the backed-up user or site, the target
 * (exists, has a mailbox / drive for the services asked; a site still there), and the write roles of
 * the restore app for what is written. What only restores to a folder (Teams, chats, groups, site
 * lists) is refused by name. One clear error, nothing written. Returns the target of `--to-user`
 * (undefined in place).
 */
export async function checkM365Restore(repo: Repository, conn: GraphConnection, r: M365RestoreRequest): Promise<{ target?: { id: string; userPrincipalName: string } }> {
  const prefix = parsePathPrefix(r.path);
  const scoped = r.scopes !== undefined && Object.values(r.scopes).some((v) => v !== undefined);
  if (r.scopes?.team !== undefined || r.scopes?.group !== undefined || r.services.some((s) => s === 'teams' || s === 'groups' || s === 'chats'))
    throw new BackupError('USAGE', `${FOLDER_ONLY} Restore them to a folder (without --in-place / --to-user, or destination {"kind":"folder"}).`);
  if (scoped && r.destination.kind === 'user') throw new BackupError('USAGE', 'A SharePoint site is restored into Microsoft 365 in place only (--in-place); a restore to another site is not available yet.');
  if (r.scopes?.site !== undefined && prefix?.[0]?.toLowerCase() === 'lists')
    throw new BackupError('USAGE', "A site's lists restore to a folder only (as JSON and CSV): --path names a document library and a folder in it, e.g. Documents/2026.");
  if (r.destination.kind === 'user' && r.user === undefined) throw new BackupError('USAGE', 'A restore to another user restores one user: add the user whose backup is restored (--user / "user").');
  if (scoped) {
    // Only what the selection names is written: the roles of its services, each site still there.
    const entries = await selectEntries(readDirectory(repo, r.tenantName), r.tenantName, r.user, r.scopes ?? {});
    const services = [...new Set(entries.flatMap((e) => servicesOfEntry(e.id, r.services)))];
    await checkWriteRoles(conn, services);
    for (const e of entries) {
      const site = scopeOf(e.id);
      if (site?.kind === 'site' && services.includes('sharepoint')) await checkTargetSite(conn, { id: site.id, displayName: e.displayName || e.userPrincipalName });
    }
    const users = entries.filter((e) => !scopeOf(e.id));
    for (const u of users) await checkTargetServices(conn, await liveUser(conn, r, u.id), r.services);
    return {};
  }
  const sources = await directoryUsers(repo, r.tenantName, r.user);
  // The roles of what is written: a user's services for one user; the whole tenant's sites need SharePoint's too.
  await checkWriteRoles(conn, [...new Set(sources.flatMap((e) => servicesOfEntry(e.id, r.services)))]);
  if (r.destination.kind === 'user') {
    const target = await resolveTargetUser(conn, r.destination.user);
    if (sources.some((s) => s.id === target.id)) throw new BackupError('USAGE', `"${r.destination.user}" is the user being restored: use an in-place restore instead.`);
    await checkTargetServices(conn, target, r.services);
    return { target };
  }
  if (r.user !== undefined) await checkTargetServices(conn, await liveUser(conn, r, sources[0]!.id), r.services);
  return {};
}

/** What only a folder restore can bring back (no writer into Microsoft 365). */
export const FOLDER_ONLY = 'Teams channels, chats and group conversations cannot be restored into Microsoft 365 (m365-backup has no writer for them); neither can SharePoint lists.';

/** The backed-up user, as Graph has it today (in place): NOT_FOUND when the user is gone. */
const liveUser = (conn: GraphConnection, r: M365RestoreRequest, id: string) =>
  resolveTargetUser(conn, id).catch((e: unknown) => {
    if (isBackupError(e, 'NOT_FOUND')) throw new BackupError('NOT_FOUND', `User "${r.user}" is no longer in tenant "${r.tenantName}": restore it to another user (--to-user).`);
    throw e;
  });

/** The plan of a restore into Microsoft 365 (after `checkM365Restore`). */
export async function planM365Restore(repo: Repository, key: PrivateKey, r: M365RestoreRequest, target?: { id: string; userPrincipalName: string }): Promise<M365WritePlan> {
  return planM365Write(repo, key, { ...r, pathPrefix: parsePathPrefix(r.path), target: (u) => target ?? { id: u.id, userPrincipalName: u.userPrincipalName } });
}

export interface UnitResult extends WriterCounts {
  part: number;
  unit: number;
  /** No unit of the part is left. */
  done: boolean;
}

const locationsOf = (plan: M365WritePlan) => new Map<string, ChunkLocation>(plan.locations.map(([hex, packId, offset, length, rawLength]) => [hex, { packId, offset, length, rawLength }]));

/**
 * One work unit: at most UNIT_ITEMS items of one part (a user x service) written through its
 * writer, each item's content streamed from the packs. The restore map makes a rerun of the unit
 * create nothing twice. With `restoreId` the unit's failures are saved sealed for the report.
 */
export async function writeM365Unit(
  repo: Repository,
  key: PrivateKey,
  conn: GraphConnection,
  plan: M365WritePlan,
  o: { part: number; unit: number; conflict: ConflictMode; toUser: boolean; restoreId?: string; locations?: Map<string, ChunkLocation>; /** One reader (one worker pool) for every unit of a process; closed by the caller. */ reader?: ChunkReader },
): Promise<UnitResult> {
  const part = plan.parts[o.part];
  if (!part) throw new BackupError('NOT_FOUND', `The restore has no part ${o.part}.`);
  const items = part.items.slice(o.unit * UNIT_ITEMS, (o.unit + 1) * UNIT_ITEMS);
  const done = (o.unit + 1) * UNIT_ITEMS >= part.items.length;
  let counts = emptyCounts();
  const writer = writerFor(part.service);
  if (!writer) for (const i of items) countFailure(counts, String(i.meta.subject ?? i.meta.name ?? i.meta.displayName ?? ''), `Restoring ${part.service} into Microsoft 365 is not available yet; restore it to a folder instead.`);
  else if (items.length > 0) {
    const root = o.toUser ? destinationRootName(part) : undefined;
    const map = new RestoreMapStore(repo, [plan.tenant, part.sourceUserId, part.targetUserId, part.service, root ?? ''].join('\0'));
    const reader = o.reader ?? new ChunkReader(repo, key);
    const locations = o.locations ?? locationsOf(plan);
    const restoreItems: RestoreItem[] = items.map((i) => ({ sourceId: i.sourceId, meta: i.meta, size: i.size, ...(i.chunks !== '' ? { content: () => itemContent(reader, i.chunks, locations) } : {}) }));
    try {
      counts = await writer.write({ conn, targetUserId: part.targetUserId, conflict: o.conflict, ...(root ? { destinationRoot: root } : {}), map }, restoreItems);
    } finally {
      if (!o.reader) await reader.close();
    }
  }
  if (o.restoreId) await saveUnitFailures(repo, o.restoreId, `p${String(o.part).padStart(6, '0')}.u${String(o.unit).padStart(6, '0')}`, counts.failures, counts);
  return { ...counts, part: o.part, unit: o.unit, done };
}

export interface M365RestoreResult {
  parts: { userPrincipalName: string; targetUserPrincipalName: string; service: Service; snapshot: number; time: string; items: number; counts: WriterCounts }[];
  counts: WriterCounts;
  failures: { path: string; reason: string }[];
}

/**
 * The CLI's restore into Microsoft 365, in one process: check, plan, rehydration check, then every
 * part's units in turn (parts `parallelism` at once). Killed and rerun, it resumes through the
 * restore map: nothing is created twice.
 */
export function restoreIntoM365(repo: Repository, key: PrivateKey, conn: GraphConnection, r: M365RestoreRequest, o: RestoreIntoOptions = {}): Promise<M365RestoreResult> {
  return whileReading(repo, 'a restore', () => restoreIntoM365Read(repo, key, conn, r, o));
}

type RestoreIntoOptions = { parallelism?: number; onUnit?: (u: UnitResult, part: PlannedWritePart) => void };

async function restoreIntoM365Read(repo: Repository, key: PrivateKey, conn: GraphConnection, r: M365RestoreRequest, o: RestoreIntoOptions): Promise<M365RestoreResult> {
  const { target } = await checkM365Restore(repo, conn, r);
  const plan = await planM365Restore(repo, key, r, target);
  const archived = await archiveState(repo, plan.packs);
  if (archived.archived > 0) {
    const requested = await rehydratePacks(repo, plan.packs, 'Standard');
    throw new BackupError('BLOB_ARCHIVED', `${archived.archived} pack(s) this restore needs are in the Archive tier; rehydration was requested for ${requested} (it can take up to 15 hours): run the restore again then.`);
  }
  const result: M365RestoreResult = {
    parts: plan.parts.map((p) => ({ userPrincipalName: p.sourceUpn, targetUserPrincipalName: p.targetUpn, service: p.service, snapshot: p.snapshot, time: p.time, items: p.items.length, counts: emptyCounts() })),
    counts: emptyCounts(),
    failures: [...plan.failures],
  };
  const locations = locationsOf(plan);
  // One reader for the whole restore: one pool of chunk-opening workers, however many parts run at once.
  const reader = new ChunkReader(repo, key);
  try {
  await forEachConcurrent(
    plan.parts.map((_, i) => i),
    Math.max(1, o.parallelism ?? 4),
    async (i) => {
      const part = plan.parts[i]!;
      for (let unit = 0; unit < Math.max(1, unitCount(part)); unit++) {
        let u: UnitResult;
        try {
          u = await writeM365Unit(repo, key, conn, plan, { part: i, unit, conflict: r.conflict, toUser: r.destination.kind === 'user', locations, reader });
        } catch (e) {
          // A part whose unit throws (Graph refusing the target, an unreadable pack) fails alone, as in
          // the Function App (recordM365PartFailure): the other parts go on, the rest of this one is one
          // failure with its reason, and a rerun resumes it through the restore map.
          const reason = partFailureReason(String((e as Error)?.message ?? e));
          const failed: WriterCounts = { restored: 0, skipped: 0, renamed: 0, failed: 1, failures: [] };
          addCounts(result.parts[i]!.counts, failed);
          addCounts(result.counts, failed);
          result.failures.push({ path: `${part.sourceUpn}/${part.service} (the rest of the part)`, reason });
          o.onUnit?.({ ...failed, part: i, unit, done: true }, part);
          return;
        }
        addCounts(result.parts[i]!.counts, u);
        addCounts(result.counts, u);
        for (const f of u.failures) result.failures.push({ path: `${part.sourceUpn}/${part.service}/${f.item}`, reason: f.reason });
        o.onUnit?.(u, part);
      }
    },
  );
  } finally {
    await reader.close();
  }
  return result;
}
