import type { PrivateKey } from '../../crypto';
import { BackupError } from '../../errors';
import { Catalog, ChunkReader, Directory, type ChunkLocation, type ItemVersion, type Repository, type SnapshotRecord } from '../../repo';
import type { Service } from '../../graph';
import { latestAtOrBefore } from '../selectSnapshot';
import { directoryPartition, isScopeService, matchUsers, SCOPE_DIR, scopeOf, servicePartition, servicesOfEntry, TENANT_DIRECTORY, type DirectoryUser } from '../../m365';
import { layoutScope, permissionsDocument, type PlannedDocument } from './scopeLayout';
import { layoutChats } from './chatLayout';
import { selectEntries, type ScopeFilter } from './scopeSelection';
import { itemFileName, NameSpace } from './naming';
import { layoutTree, type TreeEntry } from './treeLayout';
import { keepSelected } from './itemSelection';

/** What to restore: a tenant, or one user, some services, as of a point in time (undefined: the latest). */
export interface TenantSelection {
  tenantName: string;
  services: readonly Service[];
  user?: string;
  /** Sites, teams, groups by id or name (URL, name, mail): with any of these or `user`, only what they name. */
  scopes?: ScopeFilter;
  pointInTime?: Date;
  /** Selected item or folder ids of `user` (the browse listing's): only these, a folder with its subtree (itemSelection.ts). */
  items?: readonly string[];
}

/** A file of the restore: its unique path under the target, its chunks, and how to write it. */
export interface PlannedFile {
  path: string;
  /** Chunk IDs in content order, base64 (32 bytes each). */
  chunks: string;
  /** Events and contacts are stored as JSON and written as .ics / .vcf. */
  convert?: 'ics' | 'vcf';
  mtime?: string;
}

export interface PlannedPartition {
  userPrincipalName: string;
  service: Service;
  snapshot: number;
  time: string;
  items: number;
  /** "<user>/<Service>" under the target. */
  dir: string;
  /** The metadata records, written as <dir>/_items.json. */
  metas: Record<string, unknown>[];
  /** Folders (empty ones included), relative to the target, ending in "/". */
  folders: string[];
  files: PlannedFile[];
  /** Files made from the metadata alone (channel transcripts, list exports, _permissions.json), relative to the target. */
  documents?: PlannedDocument[];
}

/**
 * A tenant restore, decided once: every path (unique, case-insensitively), every chunk and where it
 * is, the packs to rehydrate, and the items that cannot be restored (damaged rows). The CLI computes
 * and writes it at once; the Function App stores it sealed and every step of the restore reads it.
 */
export interface TenantRestorePlan {
  tenant: string;
  partitions: PlannedPartition[];
  failures: { path: string; reason: string }[];
  packs: string[];
  /** [chunk hex, pack, offset, length, raw length] of every chunk the files need. */
  locations: [string, string, number, number, number][];
}

/** A user's service folder; a site's, team's or group's content is its folder itself (Sites/<site>/..., Teams/<team>/..., Groups/<group>/...). */
const SERVICE_DIR: Record<Service, string> = { onedrive: 'OneDrive', mail: 'Mail', calendar: 'Calendar', contacts: 'Contacts', sharepoint: '', groups: '', teams: '', chats: 'Chats' };
const ITEMS_JSON = '_items.json';

type Meta = Record<string, unknown> & { type?: string; id?: string };

/** The tenant directory (one row per user; a directory of an earlier release is read from its one property). */
export const tenantDirectoryOf = (repo: Repository, tenant: string) => new Directory<DirectoryUser>(repo, directoryPartition(tenant), TENANT_DIRECTORY);

/** Every backed-up user, read page by page (a whole-tenant restore or listing needs them all). */
export async function readDirectory(repo: Repository, tenant: string): Promise<DirectoryUser[]> {
  const out: DirectoryUser[] = [];
  for await (const u of tenantDirectoryOf(repo, tenant).members()) out.push(u);
  return out;
}

/**
 * The users a selection names: the one user (by id or UPN, one or two point reads; NOT_FOUND when
 * the directory has no such user), or every user when `user` is absent.
 */
export async function directoryUsers(repo: Repository, tenant: string, user?: string): Promise<DirectoryUser[]> {
  if (user === undefined) return readDirectory(repo, tenant);
  const found = await tenantDirectoryOf(repo, tenant).find(user);
  if (!found) throw new BackupError('NOT_FOUND', `Tenant "${tenant}" has no backed-up user "${user}".`);
  return [found];
}

export function selectUsers(users: DirectoryUser[], tenant: string, user?: string): DirectoryUser[] {
  const found = matchUsers(users, user);
  if (user && found.length === 0) throw new BackupError('NOT_FOUND', `Tenant "${tenant}" has no backed-up user "${user}".`);
  return found;
}

/** The snapshot of each selected user and service (no password needed): what a restore would read. */
export async function selectTenantSnapshots(repo: Repository, o: TenantSelection): Promise<{ user: DirectoryUser; service: Service; catalog: Catalog; snapshot: SnapshotRecord }[]> {
  const users = o.scopes && Object.values(o.scopes).some((v) => v !== undefined) ? await selectEntries(readDirectory(repo, o.tenantName), o.tenantName, o.user, o.scopes) : await directoryUsers(repo, o.tenantName, o.user);
  if (users.length === 0) throw new BackupError('NOT_FOUND', `Tenant "${o.tenantName}" has no backups yet.`);
  const out = [];
  for (const user of users)
    for (const service of servicesOfEntry(user.id, o.services)) {
      const catalog = new Catalog(repo, servicePartition(o.tenantName, user.id, service));
      const snapshot = latestAtOrBefore(await catalog.snapshots(), o.pointInTime);
      if (snapshot) out.push({ user, service, catalog, snapshot });
    }
  return out;
}

/** Plans the restore of a tenant selection: reads every item version once and locates its chunks. */
export async function planTenantRestore(repo: Repository, privateKey: PrivateKey, o: TenantSelection): Promise<TenantRestorePlan> {
  const plan: TenantRestorePlan = { tenant: o.tenantName, partitions: [], failures: [], packs: [], locations: [] };
  // Users at the top by UPN; sites, teams and groups under Sites/, Teams/, Groups/ by display name (a UPN never is one of those).
  const users = new NameSpace(Object.values(SCOPE_DIR));
  const scopeNames = new Map<string, NameSpace>();
  const userDirs = new Map<string, string>();
  const wanted = o.items ? new Set(o.items) : undefined;
  for (const { user, service, catalog, snapshot } of await selectTenantSnapshots(repo, o)) {
    const scope = scopeOf(user.id);
    let userDir = userDirs.get(user.id);
    if (userDir === undefined) {
      if (scope) {
        let names = scopeNames.get(scope.kind);
        if (!names) scopeNames.set(scope.kind, (names = new NameSpace()));
        userDir = `${SCOPE_DIR[scope.kind]}/${names.claim(user.displayName || user.userPrincipalName, user.id)}`;
      } else userDir = users.claim(user.userPrincipalName, user.id);
      userDirs.set(user.id, userDir);
    }
    const dir = SERVICE_DIR[service] ? `${userDir}/${SERVICE_DIR[service]}` : userDir;
    const runKeys = await catalog.openRunKeys(privateKey);
    let versions: ItemVersion[] = [];
    const damaged = (row: string, reason: string) => plan.failures.push({ path: `${dir} (item row ${row})`, reason: `${reason} The item is not restored.` });
    for await (const v of catalog.versionsAt(snapshot.seq, runKeys, damaged)) versions.push(v);
    if (wanted) {
      versions = keepSelected(service, versions, (v) => v.meta as Meta, wanted, new Set());
      if (versions.length === 0) continue;
    }
    const { folders, files, documents } = isScopeService(service) ? layoutScope(service, versions, user.displayName || user.userPrincipalName) : service === 'chats' ? layoutChats(versions) : layoutService(service, versions);
    plan.partitions.push({
      userPrincipalName: user.userPrincipalName,
      service,
      snapshot: snapshot.seq,
      time: snapshot.time,
      items: versions.length,
      dir,
      metas: versions.map((v) => v.meta),
      folders: folders.map((f) => `${dir}/${f}`),
      files: files.map((f) => ({ ...f, path: `${dir}/${f.path}` })),
      ...(documents.length > 0 ? { documents: documents.map((d) => ({ ...d, path: `${dir}/${d.path}` })) } : {}),
    });
  }
  const chunks = new Set<string>();
  for (const p of plan.partitions) for (const f of p.files) for (const hex of chunkHexes(f.chunks)) chunks.add(hex);
  const located = await new ChunkReader(repo, privateKey).locate(chunks);
  plan.locations = [...located].map(([hex, l]) => [hex, l.packId, l.offset, l.length, l.rawLength]);
  plan.packs = [...new Set([...located.values()].map((l) => l.packId))].sort();
  return plan;
}

export function chunkHexes(base64: string): string[] {
  const ids = Buffer.from(base64, 'base64');
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += 32) out.push(ids.toString('hex', i, i + 32));
  return out;
}

export function planLocations(plan: TenantRestorePlan): Map<string, ChunkLocation> {
  return new Map(plan.locations.map(([hex, packId, offset, length, rawLength]) => [hex, { packId, offset, length, rawLength }]));
}

const dateOf = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** The folders and files of one service's items, each with a unique path under the service folder. */
function layoutService(service: Service, versions: ItemVersion[]): { folders: string[]; files: PlannedFile[]; documents: PlannedDocument[] } {
  const entries: { e: TreeEntry; file?: Omit<PlannedFile, 'path'> }[] = [];
  // The drive root (a folder without a parent) is the service folder itself.
  const roots = new Set(service === 'onedrive' ? versions.map((v) => v.meta as Meta).filter((m) => m.type === 'folder' && m.parentId == null).map((m) => String(m.id)) : []);
  const calendars = new Set<string>();
  const parentOf = (id: unknown) => (id == null || roots.has(String(id)) ? null : String(id));
  for (const v of versions) {
    const m = v.meta as Meta;
    const chunks = v.chunkIds.toString('base64');
    if (service === 'onedrive') {
      if (roots.has(String(m.id)) || m.type === 'permissions') continue; // sharing permissions: _permissions.json below
      entries.push({
        e: { id: String(m.id), parentId: parentOf(m.parentId), name: String(m.name ?? m.id), folder: m.type === 'folder' },
        ...(m.type === 'folder' ? {} : { file: { chunks, mtime: dateOf(m.modified) } }),
      });
    } else if (service === 'mail') {
      if (m.type === 'folder') entries.push({ e: { id: String(m.folderId), parentId: (m.parentId as string | null) ?? null, name: String(m.displayName ?? ''), folder: true } });
      else if (m.type === 'config') entries.push({ e: { id: `config:${String(m.id)}`, parentId: null, name: `_${String(m.name ?? m.id)}.json`, folder: false }, file: { chunks } });
      else if (m.type === 'message')
        entries.push({ e: { id: `message:${String(m.id)}`, parentId: String(m.folderId), name: itemFileName(String(m.subject ?? ''), String(m.id), 'eml'), folder: false }, file: { chunks, mtime: dateOf(m.receivedDateTime) } });
    } else if (service === 'calendar') {
      // One folder per calendar (by the name it had when backed up); items of earlier releases, which
      // read the default calendar only and carry no calendar, stay at the top as they always were.
      const calendar = typeof m.calendarId === 'string' ? `calendar:${m.calendarId}` : null;
      if (calendar && !calendars.has(calendar)) {
        calendars.add(calendar);
        entries.push({ e: { id: calendar, parentId: null, name: String(m.calendarName ?? 'Calendar'), folder: true } });
      }
      entries.push({ e: { id: String(m.id), parentId: calendar, name: itemFileName(String(m.subject ?? ''), String(m.id), 'ics'), folder: false }, file: { chunks, convert: 'ics' } });
    } else if (m.type === 'folder') {
      // A child contact folder under its parent (backups of earlier releases: every folder at the top).
      if (m.folderId !== 'default') entries.push({ e: { id: String(m.folderId), parentId: (m.parentId as string | null) ?? null, name: String(m.displayName ?? ''), folder: true } });
    } else if (m.type === 'contact') {
      const parentId = m.folderId === 'default' ? null : String(m.folderId);
      entries.push({ e: { id: `contact:${String(m.id)}`, parentId, name: itemFileName(String(m.displayName ?? ''), String(m.id), 'vcf'), folder: false }, file: { chunks, convert: 'vcf' } });
    }
  }
  const paths = layoutTree(
    entries.map((x) => x.e),
    [ITEMS_JSON, '_permissions.json'],
  );
  const folders: string[] = [];
  const files: PlannedFile[] = [];
  const byId = new Map<string, string>();
  for (const { e, file } of entries) {
    const path = paths.get(e)!;
    byId.set(e.id, path);
    if (file) files.push({ path, ...file });
    else folders.push(path);
  }
  const documents = service === 'onedrive' ? permissionsDocument(versions.map((v) => v.meta as Meta), byId) : [];
  return { folders, files, documents };
}
