import { downloadDriveContent } from '../download';
import { getJson } from '../requests';
import { readDeltaScope } from './deltaScope';
import { isObject, type ServiceSource, type SourceChange, type SourceContext } from './types';

const SCOPE = 'drive';
export const MEMORY_LIMIT = 4 * 1024 * 1024;

/** OneDrive: the drive root delta; folders and files keep their parent, so paths are rebuilt at restore. */
export class OneDriveSource implements ServiceSource {
  readonly service = 'onedrive' as const;
  constructor(private readonly ctx: SourceContext) {}

  async *changes(cursors: Record<string, string>): AsyncIterable<SourceChange> {
    const { conn, userId } = this.ctx;
    yield* readDeltaScope(conn, SCOPE, `/users/${userId}/drive/root/delta?$top=${this.ctx.pageSize}`, cursors[SCOPE], `OneDrive delta of user ${userId}`, {}, (raw) => this.convert(raw));
  }

  private convert(raw: unknown): SourceChange {
    const { conn, userId } = this.ctx;
    const id = isObject(raw) && typeof raw.id === 'string' ? raw.id : undefined;
    if (!isObject(raw) || !id) return { kind: 'failed', id: '?', scope: SCOPE, reason: 'a drive item without an id' };
    if (raw.deleted) return { kind: 'removed', id, scope: SCOPE };
    const parent = isObject(raw.parentReference) && typeof raw.parentReference.id === 'string' ? raw.parentReference.id : null;
    const isRoot = raw.root !== undefined;
    if (typeof raw.name !== 'string' || (!isRoot && !parent)) return { kind: 'failed', id, scope: SCOPE, reason: 'malformed drive item (no name or parent)' };
    const version = String(raw.eTag ?? raw.cTag ?? raw.lastModifiedDateTime ?? '');
    const common = { name: isRoot ? '' : raw.name, parentId: isRoot ? null : parent, modified: raw.lastModifiedDateTime ?? null, created: raw.createdDateTime ?? null };
    if (isRoot || isObject(raw.folder) || isObject(raw.package)) return { kind: 'item', id, scope: SCOPE, version, meta: { type: 'folder', ...common } };
    if (!isObject(raw.file)) return { kind: 'failed', id, scope: SCOPE, reason: 'drive item is neither a file nor a folder' };
    const size = Number(raw.size);
    if (!Number.isSafeInteger(size) || size < 0) return { kind: 'failed', id, scope: SCOPE, reason: 'malformed drive item size' };
    const hashes = isObject(raw.file.hashes) ? raw.file.hashes : {};
    const quickXorHash = typeof hashes.quickXorHash === 'string' ? hashes.quickXorHash : undefined;
    const downloadUrl = typeof raw['@microsoft.graph.downloadUrl'] === 'string' ? raw['@microsoft.graph.downloadUrl'] : undefined;
    const refreshUrl = async () => {
      const item = await getJson<Record<string, unknown>>(conn, `/users/${userId}/drive/items/${id}`, `drive item ${id}`);
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
        downloadDriveContent(conn, { url: downloadUrl ?? (await refreshUrl()), size, quickXorHash, refreshUrl, spoolDir: this.ctx.spoolDir, memoryLimit: MEMORY_LIMIT, memory: this.ctx.memory, what: `OneDrive file ${id}` }),
    };
  }
}
