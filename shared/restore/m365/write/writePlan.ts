import type { PrivateKey } from '../../../crypto';
import { BackupError } from '../../../errors';
import { ChunkReader, type Repository } from '../../../repo';
import type { Service } from '../../../graph';
import { chunkHexes, selectTenantSnapshots, type TenantSelection } from '../tenantPlan';

/** One item of the plan: the source id, its metadata record and its chunks (base64, 32 bytes each). */
export interface PlannedWriteItem {
  sourceId: string;
  meta: Record<string, unknown>;
  chunks: string;
  size: number;
}

/** One source user x service, written into one target user: its items in order (folders first, parents before children). */
export interface PlannedWritePart {
  sourceUserId: string;
  sourceUpn: string;
  targetUserId: string;
  targetUpn: string;
  service: Service;
  snapshot: number;
  time: string;
  items: PlannedWriteItem[];
}

/** A restore into Microsoft 365, decided once and stored sealed (like the zip's plan). */
export interface M365WritePlan {
  tenant: string;
  parts: PlannedWritePart[];
  failures: { path: string; reason: string }[];
  packs: string[];
  locations: [string, string, number, number, number][];
}

/** Items one work unit writes before it returns (so a unit is short and a retry repeats little). */
export const UNIT_ITEMS = 100;

/**
 * A folder prefix as given (`Inbox/Projects`, `Documents/2026`), split into names; USAGE for a
 * malformed one (empty, `.`/`..`, a backslash or a control character).
 */
export function parsePathPrefix(path: string | undefined): string[] | undefined {
  if (path === undefined) return undefined;
  const trimmed = path.trim().replace(/^\/+|\/+$/g, '');
  const names = trimmed.split('/');
  if (trimmed === '' || names.some((n) => n.trim() === '' || n === '.' || n === '..' || /[\\\u0000-\u001f]/.test(n)))
    throw new BackupError('USAGE', `"${path.slice(0, 200)}" is not a folder path: give folder names separated by "/", e.g. Inbox/Projects or Documents/2026.`);
  return names;
}

type Meta = Record<string, unknown> & { type?: string; id?: string };

/** Each folder's path of names and each item's folder, for one service (undefined: not a tree item). */
function folderTree(service: Service, metas: Meta[]): { folderOf: (m: Meta) => string | null; pathOf: (folderKey: string | null) => string[] | undefined; isFolder: (m: Meta) => boolean; keyOf: (m: Meta) => string } {
  // A site's tree is its libraries (top-level folders, key "library:<driveId>"), each drive's root being its library.
  const drives = service === 'onedrive' || service === 'sharepoint';
  const isFolder = (m: Meta) => m.type === 'folder' || (service === 'sharepoint' && m.type === 'library');
  // Folder keys: drive item ids (a library: its catalog id); mail and contact folder ids (folderId).
  const keyOf = (m: Meta) => (m.type === 'library' ? libraryKey(m) : drives ? String(m.id) : String(m.folderId));
  const folders = new Map<string, { name: string; parent: string | null }>();
  const roots = new Map<string, string | null>(); // a drive root -> its library's key (null: OneDrive's top)
  for (const m of metas) {
    if (!isFolder(m)) continue;
    if (drives && m.type === 'folder' && m.parentId == null) {
      roots.set(String(m.id), service === 'sharepoint' ? libraryKey(m) : null);
      continue;
    }
    if (service === 'contacts' && m.folderId === 'default') continue;
    // Contact folders of earlier releases carry no parentId: they stay at the top, as they were restored then.
    folders.set(keyOf(m), { name: String(drives ? m.name : m.displayName), parent: m.type === 'library' ? null : ((m.parentId as string | null) ?? null) });
  }
  const parentKey = (p: string | null) => (p !== null && roots.has(p) ? roots.get(p)! : p === null || !folders.has(p) ? null : p);
  const pathOf = (key: string | null): string[] | undefined => {
    const out: string[] = [];
    const seen = new Set<string>();
    for (let k = key; k !== null; ) {
      const f = folders.get(k);
      if (!f || seen.has(k)) return undefined; // a parent missing from the backup, or a loop
      seen.add(k);
      out.push(f.name);
      k = parentKey(f.parent);
    }
    return out.reverse();
  };
  const folderOf = (m: Meta): string | null => {
    if (m.type === 'library') return null;
    if (drives || isFolder(m)) return parentKey((m.parentId as string | null) ?? null);
    if (service === 'contacts') return m.folderId === 'default' ? null : String(m.folderId);
    return String(m.folderId);
  };
  return { folderOf, pathOf, isFolder, keyOf };
}

/** A site library's key in the tree and in the restore map ("library:<driveId>", its catalog id). */
export const libraryKey = (m: Meta) => `library:${String(m.driveId)}`;

const lower = (names: string[]) => names.map((n) => n.toLowerCase());
const startsWith = (path: string[], prefix: string[]) => prefix.every((p, i) => path[i] === p);

/**
 * Plans a restore into Microsoft 365: the selected users' snapshots as of the point in time, every
 * item version read once, ordered (folders by depth, then the rest), cut to the folder prefix
 * (its ancestors kept so the tree can be rebuilt), and every chunk located. `target` maps a source
 * user to the user written into (itself in place).
 */
export async function planM365Write(
  repo: Repository,
  privateKey: PrivateKey,
  o: TenantSelection & { pathPrefix?: string[]; target: (u: { id: string; userPrincipalName: string }) => { id: string; userPrincipalName: string } },
): Promise<M365WritePlan> {
  const plan: M365WritePlan = { tenant: o.tenantName, parts: [], failures: [], packs: [], locations: [] };
  const prefix = o.pathPrefix ? lower(o.pathPrefix) : undefined;
  for (const { user, service, catalog, snapshot } of await selectTenantSnapshots(repo, o)) {
    const runKeys = await catalog.openRunKeys(privateKey);
    const metas: { meta: Meta; chunks: string }[] = [];
    const damaged = (row: string, reason: string) => plan.failures.push({ path: `${user.userPrincipalName}/${service} (item row ${row})`, reason: `${reason} The item is not restored.` });
    for await (const v of catalog.versionsAt(snapshot.seq, runKeys, damaged)) metas.push({ meta: v.meta as Meta, chunks: v.chunkIds.toString('base64') });
    const tree = folderTree(
      service,
      metas.map((x) => x.meta),
    );
    const items: (PlannedWriteItem & { depth: number; folder: boolean })[] = [];
    const libraryNames = new Map(metas.filter((x) => x.meta.type === 'library').map((x) => [String(x.meta.driveId), String(x.meta.name)]));
    for (const { meta, chunks } of metas) {
      if ((service === 'onedrive' || service === 'sharepoint') && meta.type === 'folder' && meta.parentId == null) continue; // the drive root
      // A site's libraries are written back; its lists (and the sharing permissions) restore to folders only.
      if (service === 'sharepoint' && meta.type !== 'library' && meta.type !== 'folder' && meta.type !== 'file') continue;
      if (service === 'contacts' && meta.type === 'folder' && meta.folderId === 'default') continue;
      if (service === 'mail' && meta.type === 'config') {
        // The mailbox configuration (mailboxConfigWriter.ts) has no folder: last, after every folder; not with a folder prefix.
        if (!prefix) items.push({ sourceId: `config:${String(meta.name)}`, meta, chunks, size: 0, depth: Number.MAX_SAFE_INTEGER, folder: false });
        continue;
      }
      if (service === 'mail' && meta.type !== 'folder' && meta.type !== 'message') continue;
      const folder = tree.isFolder(meta);
      // Events have no folder tree here (the calendar writer places them).
      const own = service === 'calendar' ? [] : folder ? tree.pathOf(tree.keyOf(meta)) : tree.pathOf(tree.folderOf(meta));
      if (own === undefined) {
        plan.failures.push({ path: `${user.userPrincipalName}/${service}/${String(meta.name ?? meta.subject ?? meta.displayName ?? meta.id)}`, reason: 'Its folder chain is broken in the backup; the item is not restored in place.' });
        continue;
      }
      if (prefix) {
        const p = lower(own);
        // A folder on the way to the prefix is kept (the tree is rebuilt), anything else must be at or under it.
        const onTheWay = folder && p.length < prefix.length && startsWith(prefix, p);
        if (!onTheWay && !(p.length >= prefix.length && startsWith(p, prefix))) continue;
      }
      // Parents as the writers read them: null for the top (the drive root, the mailbox root, the default Contacts folder), else a planned folder.
      const written = service === 'onedrive' || service === 'sharepoint' || ((service === 'mail' || service === 'contacts') && folder) ? { ...meta, parentId: tree.folderOf(meta) } : meta;
      // Every library item carries its library's name: the writer finds (or makes) the library by it, whichever unit the item is in.
      if (service === 'sharepoint') written.libraryName = libraryNames.get(String(meta.driveId)) ?? null;
      items.push({ sourceId: String(meta.id), meta: written, chunks, size: 0, depth: folder ? own.length : Number.MAX_SAFE_INTEGER, folder });
    }
    items.sort((a, b) => a.depth - b.depth);
    const target = o.target(user);
    plan.parts.push({
      sourceUserId: user.id,
      sourceUpn: user.userPrincipalName,
      targetUserId: target.id,
      targetUpn: target.userPrincipalName,
      service,
      snapshot: snapshot.seq,
      time: snapshot.time,
      items: items.map(({ sourceId, meta, chunks }) => ({ sourceId, meta, chunks, size: 0 })),
    });
  }
  if (o.pathPrefix && plan.parts.every((p) => p.items.length === 0))
    throw new BackupError('NOT_FOUND', `Nothing was backed up under "${o.pathPrefix.join('/')}".`);
  const wanted = new Set<string>();
  for (const p of plan.parts) for (const i of p.items) for (const hex of chunkHexes(i.chunks)) wanted.add(hex);
  const located = await new ChunkReader(repo, privateKey).locate(wanted);
  plan.locations = [...located].map(([hex, l]) => [hex, l.packId, l.offset, l.length, l.rawLength]);
  plan.packs = [...new Set([...located.values()].map((l) => l.packId))].sort();
  for (const p of plan.parts) for (const i of p.items) i.size = chunkHexes(i.chunks).reduce((n, h) => n + (located.get(h)?.rawLength ?? 0), 0);
  return plan;
}

/** The units of a part: [from, count) windows of UNIT_ITEMS items. */
export const unitCount = (part: PlannedWritePart) => Math.ceil(part.items.length / UNIT_ITEMS);
