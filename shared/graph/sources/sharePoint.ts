import { scopeOf } from '../../m365/scopes';
import { isGraphReadFailure, listAll } from '../requests';
import { readDeltaScope } from './deltaScope';
import { driveItemChange } from './oneDrive';
import { withPermissions } from './permissions';
import { isObject, type ServiceSource, type SourceChange, type SourceContext } from './types';

export const LIBRARIES_SCOPE = 'libraries';
export const LISTS_SCOPE = 'lists';
export const libraryScope = (driveId: string) => `drive:${driveId}`;
export const listScope = (listId: string) => `list:${listId}`;
/** A list item's id in the partition: item ids ("1", "2", ...) are unique only within their list. */
export const listItemId = (listId: string, itemId: string) => `${listId}:${itemId}`;

interface Library {
  id: string;
  name: string;
  webUrl?: string;
}

interface SiteList {
  id: string;
  displayName: string;
  name?: string;
  webUrl?: string;
  list?: { template?: string; hidden?: boolean };
}

/**
 * SharePoint: one site's document libraries (each a drive: its root delta read exactly as OneDrive's,
 * quickXorHash-verified downloads, resync on 410, sharing permissions beside each item) and its
 * lists (each list's item delta with `expand=fields`, items stored as their Graph JSON). The library
 * and list listings are read in full each run (their digest makes an unchanged site cost nothing).
 */
export class SharePointSource implements ServiceSource {
  readonly service = 'sharepoint' as const;
  constructor(private readonly ctx: SourceContext) {}

  async *changes(cursors: Record<string, string>): AsyncIterable<SourceChange> {
    const { conn } = this.ctx;
    const siteId = scopeOf(this.ctx.userId)?.id ?? this.ctx.userId;
    let libraries: Library[];
    let lists: SiteList[];
    try {
      libraries = await listAll<Library>(conn, `/sites/${siteId}/drives?$select=id,name,webUrl,driveType`, `the document libraries of site ${siteId}`);
    } catch (e) {
      if (!isGraphReadFailure(e)) throw e;
      yield { kind: 'scopeFailed', scope: LIBRARIES_SCOPE, reason: e.message };
      return;
    }
    for (const l of libraries) yield { kind: 'item', id: `library:${l.id}`, scope: LIBRARIES_SCOPE, version: l.name, meta: { type: 'library', driveId: l.id, name: l.name, webUrl: l.webUrl ?? null } };
    yield { kind: 'scopeComplete', scope: LIBRARIES_SCOPE, full: true };
    try {
      // Document libraries are lists too (template documentLibrary): they are read as drives above.
      lists = (await listAll<SiteList>(conn, `/sites/${siteId}/lists?$select=id,name,displayName,webUrl,list`, `the lists of site ${siteId}`)).filter((l) => l.list?.template !== 'documentLibrary' && !l.list?.hidden);
    } catch (e) {
      if (!isGraphReadFailure(e)) throw e;
      yield { kind: 'scopeFailed', scope: LISTS_SCOPE, reason: e.message };
      lists = [];
    }
    for (const l of lists) yield { kind: 'item', id: `list:${l.id}`, scope: LISTS_SCOPE, version: `${l.displayName}\0${l.list?.template ?? ''}`, meta: { type: 'list', listId: l.id, displayName: l.displayName, template: l.list?.template ?? null, webUrl: l.webUrl ?? null } };
    yield { kind: 'scopeComplete', scope: LISTS_SCOPE, full: true };

    const live = new Set([LIBRARIES_SCOPE, LISTS_SCOPE, ...libraries.map((l) => libraryScope(l.id)), ...lists.map((l) => listScope(l.id))]);
    for (const scope of Object.keys(cursors)) if (!live.has(scope)) yield { kind: 'scopeGone', scope };

    for (const lib of libraries) {
      const scope = libraryScope(lib.id);
      const drive = { conn, scope, itemPath: (id: string) => `/drives/${lib.id}/items/${id}`, spoolDir: this.ctx.spoolDir, memory: this.ctx.memory, what: 'SharePoint file', extra: { driveId: lib.id } };
      const feed = readDeltaScope(conn, scope, `/drives/${lib.id}/root/delta?$top=${this.ctx.pageSize}`, cursors[scope], `the delta of library ${lib.name}`, {}, (raw) => driveItemChange(raw, drive));
      yield* this.ctx.permissions === false ? feed : withPermissions(conn, feed, drive.itemPath);
    }
    for (const list of lists) {
      const scope = listScope(list.id);
      yield* readDeltaScope(conn, scope, `/sites/${siteId}/lists/${list.id}/items/delta?expand=fields`, cursors[scope], `the item delta of list ${list.displayName}`, { Prefer: `odata.maxpagesize=${this.ctx.pageSize}` }, (raw) => listItemChange(raw, list.id, scope));
    }
  }
}

function listItemChange(raw: unknown, listId: string, scope: string): SourceChange {
  const itemId = isObject(raw) && (typeof raw.id === 'string' || typeof raw.id === 'number') ? String(raw.id) : undefined;
  if (!isObject(raw) || !itemId) return { kind: 'failed', id: '?', scope, reason: 'a list item without an id' };
  const id = listItemId(listId, itemId);
  if (raw.deleted || raw['@removed']) return { kind: 'removed', id, scope };
  if (!isObject(raw.fields)) return { kind: 'failed', id, scope, reason: 'a list item without fields (expand=fields)' };
  const data = Buffer.from(JSON.stringify(raw));
  return {
    kind: 'item',
    id,
    scope,
    version: String(raw.eTag ?? raw['@odata.etag'] ?? raw.lastModifiedDateTime ?? ''),
    meta: { type: 'listItem', listId, itemId, fields: raw.fields, created: raw.createdDateTime ?? null, modified: raw.lastModifiedDateTime ?? null },
    content: async () => ({ data }),
  };
}
