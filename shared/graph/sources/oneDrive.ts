import { downloadDriveContent } from '../download';
import type { GraphConnection } from '../connection';
import type { MemoryBudget } from '../gates';
import { getJson } from '../requests';
import { readDeltaScope } from './deltaScope';
import { withPermissions } from './permissions';
import { isObject, type ServiceSource, type SourceChange, type SourceContext } from './types';

const SCOPE = 'drive';
export const MEMORY_LIMIT = 4 * 1024 * 1024;

/** OneDrive: the drive root delta; folders and files keep their parent, so paths are rebuilt at restore. */
export class OneDriveSource implements ServiceSource {
  readonly service = 'onedrive' as const;
  constructor(private readonly ctx: SourceContext) {}

  async *changes(cursors: Record<string, string>): AsyncIterable<SourceChange> {
    const { conn, userId } = this.ctx;
    const drive = { conn, scope: SCOPE, itemPath: (id: string) => `/users/${userId}/drive/items/${id}`, spoolDir: this.ctx.spoolDir, memory: this.ctx.memory, what: 'OneDrive file' };
    const feed = readDeltaScope(conn, SCOPE, `/users/${userId}/drive/root/delta?$top=${this.ctx.pageSize}`, cursors[SCOPE], `OneDrive delta of user ${userId}`, {}, (raw) => driveItemChange(raw, drive));
    yield* this.ctx.permissions === false ? feed : withPermissions(conn, feed, drive.itemPath);
  }
}

/** Where a drive's items are (a user's OneDrive, a site's document library) and how to fetch them. */
export interface DriveSpec {
  conn: GraphConnection;
  scope: string;
  /** The Graph path of one item of the drive (to refresh an expired download URL). */
  itemPath: (id: string) => string;
  spoolDir: string;
  memory?: MemoryBudget;
  what: string;
  /** Added to every item's metadata (a library's drive id). */
  extra?: Record<string, unknown>;
}

/** One drive item of a delta page as a source change: OneDrive and SharePoint libraries alike. */
export function driveItemChange(raw: unknown, d: DriveSpec): SourceChange {
  const { conn, scope: SCOPE } = d;
  const id = isObject(raw) && typeof raw.id === 'string' ? raw.id : undefined;
  if (!isObject(raw) || !id) return { kind: 'failed', id: '?', scope: SCOPE, reason: 'a drive item without an id' };
  if (raw.deleted) return { kind: 'removed', id, scope: SCOPE };
  const parent = isObject(raw.parentReference) && typeof raw.parentReference.id === 'string' ? raw.parentReference.id : null;
  const isRoot = raw.root !== undefined;
  if (typeof raw.name !== 'string' || (!isRoot && !parent)) return { kind: 'failed', id, scope: SCOPE, reason: 'malformed drive item (no name or parent)' };
  const version = String(raw.eTag ?? raw.cTag ?? raw.lastModifiedDateTime ?? '');
  const common = { name: isRoot ? '' : raw.name, parentId: isRoot ? null : parent, modified: raw.lastModifiedDateTime ?? null, created: raw.createdDateTime ?? null, ...d.extra };
  if (isRoot || isObject(raw.folder) || isObject(raw.package)) return { kind: 'item', id, scope: SCOPE, version, meta: { type: 'folder', ...common } };
  if (!isObject(raw.file)) return { kind: 'failed', id, scope: SCOPE, reason: 'drive item is neither a file nor a folder' };
  const size = Number(raw.size);
  if (!Number.isSafeInteger(size) || size < 0) return { kind: 'failed', id, scope: SCOPE, reason: 'malformed drive item size' };
  const hashes = isObject(raw.file.hashes) ? raw.file.hashes : {};
  const quickXorHash = typeof hashes.quickXorHash === 'string' ? hashes.quickXorHash : undefined;
  const downloadUrl = typeof raw['@microsoft.graph.downloadUrl'] === 'string' ? raw['@microsoft.graph.downloadUrl'] : undefined;
  const refreshUrl = async () => {
    const item = await getJson<Record<string, unknown>>(conn, d.itemPath(id), `drive item ${id}`);
    const u = item['@microsoft.graph.downloadUrl'];
    if (typeof u !== 'string') throw new Error(`drive item ${id} has no download URL`);
    return u;
  };
  return {
    kind: 'item',
    id,
    scope: SCOPE,
    version,
    ...(typeof raw.cTag === 'string' ? { contentVersion: `${raw.cTag}\0${size}\0${quickXorHash ?? ''}` } : {}),
    meta: { type: 'file', ...common, size, quickXorHash: quickXorHash ?? null, mimeType: typeof raw.file.mimeType === 'string' ? raw.file.mimeType : null },
    content: async () =>
      downloadDriveContent(conn, { url: downloadUrl ?? (await refreshUrl()), size, quickXorHash, refreshUrl, spoolDir: d.spoolDir, memoryLimit: MEMORY_LIMIT, memory: d.memory, what: `${d.what} ${id}` }),
  };
}
