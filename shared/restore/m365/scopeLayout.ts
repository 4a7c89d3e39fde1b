import type { ItemVersion } from '../../repo';
import type { Service } from '../../m365';
import { channelTranscript, type TranscriptMessage } from './channelTranscript';
import { listCsv, listJson, type ListRow } from './listExport';
import { itemFileName } from './naming';
import { layoutTree, type TreeEntry } from './treeLayout';

/** A file made at restore from the metadata alone (a transcript, a list export, the permissions). */
export interface PlannedDocument {
  path: string;
  text: string;
}

export interface LaidOut {
  folders: string[];
  files: { path: string; chunks: string; mtime?: string }[];
  documents: PlannedDocument[];
}

export const ITEMS_JSON = '_items.json';
export const PERMISSIONS_JSON = '_permissions.json';

type Meta = Record<string, unknown> & { type?: string; id?: string };
const str = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
const dateOf = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

interface Entry {
  e: TreeEntry;
  chunks?: string;
  mtime?: string;
  /** Filled once every path is known. */
  doc?: (paths: Map<string, string>) => string;
}

/** Lays entries out, then renders documents (which may refer to the paths of other entries). */
function finish(entries: Entry[], extraDocs: (paths: Map<string, string>) => PlannedDocument[] = () => []): LaidOut {
  const placed = layoutTree(
    entries.map((x) => x.e),
    [ITEMS_JSON, PERMISSIONS_JSON],
  );
  const byId = new Map<string, string>();
  for (const x of entries) byId.set(x.e.id, placed.get(x.e)!);
  const out: LaidOut = { folders: [], files: [], documents: [] };
  for (const x of entries) {
    const path = placed.get(x.e)!;
    if (x.e.folder) out.folders.push(path);
    else if (x.doc) out.documents.push({ path, text: x.doc(byId) });
    else if (x.chunks !== undefined) out.files.push({ path, chunks: x.chunks, ...(x.mtime ? { mtime: x.mtime } : {}) });
  }
  out.documents.push(...extraDocs(byId));
  return out;
}

/** Every drive item's sharing permissions, by its restored path (only items shared with someone). */
export function permissionsDocument(metas: Meta[], paths: Map<string, string>, prefix = ''): PlannedDocument[] {
  const rows = metas
    .filter((m) => m.type === 'permissions' && Array.isArray(m.permissions) && m.permissions.length > 0)
    .map((m) => ({ path: paths.get(str(m.itemId)) ?? null, itemId: str(m.itemId), permissions: m.permissions }))
    .filter((r) => r.path !== null)
    .sort((a, b) => a.path!.localeCompare(b.path!));
  return rows.length > 0 ? [{ path: `${prefix}${PERMISSIONS_JSON}`, text: JSON.stringify(rows, null, 1) }] : [];
}

/** <site>/<library>/<tree> (mtimes kept), <site>/Lists/<list>.json and .csv, <site>/_permissions.json. */
function layoutSite(versions: ItemVersion[]): LaidOut {
  const metas = versions.map((v) => v.meta as Meta);
  const entries: Entry[] = [];
  // Each library's drive root is the library's folder.
  const rootOf = new Map<string, string>();
  for (const m of metas) if (m.type === 'folder' && m.parentId == null) rootOf.set(str(m.id), `library:${str(m.driveId)}`);
  const parent = (id: unknown) => rootOf.get(str(id)) ?? str(id);
  for (const v of versions) {
    const m = v.meta as Meta;
    if (m.type === 'library') entries.push({ e: { id: `library:${str(m.driveId)}`, parentId: null, name: str(m.name) || str(m.driveId), folder: true } });
    else if (m.type === 'folder' && m.parentId != null) entries.push({ e: { id: str(m.id), parentId: parent(m.parentId), name: str(m.name) || str(m.id), folder: true } });
    else if (m.type === 'file') entries.push({ e: { id: str(m.id), parentId: parent(m.parentId), name: str(m.name) || str(m.id), folder: false }, chunks: v.chunkIds.toString('base64'), mtime: dateOf(m.modified) });
  }
  const lists = metas.filter((m) => m.type === 'list');
  if (lists.length > 0) {
    entries.push({ e: { id: 'lists', parentId: null, name: 'Lists', folder: true } });
    const rows = new Map<string, ListRow[]>();
    for (const m of metas) if (m.type === 'listItem') rows.set(str(m.listId), [...(rows.get(str(m.listId)) ?? []), { id: str(m.itemId), fields: (m.fields ?? {}) as Record<string, unknown> }]);
    for (const l of lists) {
      const name = str(l.displayName) || str(l.listId);
      const items = rows.get(str(l.listId)) ?? [];
      entries.push({ e: { id: `list:${str(l.listId)}:json`, parentId: 'lists', name: `${name}.json`, folder: false }, doc: () => listJson(name, items) });
      entries.push({ e: { id: `list:${str(l.listId)}:csv`, parentId: 'lists', name: `${name}.csv`, folder: false }, doc: () => listCsv(items) });
    }
  }
  return finish(entries, (paths) => permissionsDocument(metas, paths));
}

/** <team>/<channel>/transcript.html, <channel>/messages/<id>.json, <channel>/images/<message>-<n>.<ext>. */
function layoutTeam(versions: ItemVersion[], team: string): LaidOut {
  const metas = versions.map((v) => v.meta as Meta);
  const entries: Entry[] = [];
  const channels = metas.filter((m) => m.type === 'channel');
  const messages = new Map<string, Meta>();
  for (const m of metas) if (m.type === 'message') messages.set(`${str(m.channelId)}:${str(m.messageId)}`, m);
  const imagesOf = new Map<string, string[]>(); // message key -> entry ids of its images, in order
  for (const c of channels) {
    const cid = str(c.channelId);
    entries.push({ e: { id: `channel:${cid}`, parentId: null, name: str(c.displayName) || cid, folder: true } });
    entries.push({ e: { id: `messages:${cid}`, parentId: `channel:${cid}`, name: 'messages', folder: true } });
    entries.push({ e: { id: `images:${cid}`, parentId: `channel:${cid}`, name: 'images', folder: true } });
  }
  for (const v of versions) {
    const m = v.meta as Meta;
    const cid = str(m.channelId);
    if (m.type === 'message') entries.push({ e: { id: str(m.id), parentId: `messages:${cid}`, name: `${str(m.messageId)}.json`, folder: false }, chunks: v.chunkIds.toString('base64'), mtime: dateOf(m.modified) });
    else if (m.type === 'hostedContent') {
      // Only images the message (as of this point in time) still shows.
      const key = `${cid}:${str(m.messageId)}`;
      const msg = messages.get(key);
      const index = Array.isArray(msg?.hosted) ? (msg.hosted as string[]).indexOf(str(m.hostedId)) : -1;
      if (index < 0) continue;
      entries.push({ e: { id: str(m.id), parentId: `images:${cid}`, name: `${str(m.messageId)}-${index + 1}.png`, folder: false }, chunks: v.chunkIds.toString('base64'), mtime: dateOf(msg?.created) });
      imagesOf.set(key, [...(imagesOf.get(key) ?? []), str(m.id)]);
    }
  }
  for (const c of channels) {
    const cid = str(c.channelId);
    entries.push({
      e: { id: `transcript:${cid}`, parentId: `channel:${cid}`, name: 'transcript.html', folder: false },
      doc: (paths) => {
        const base = paths.get(`channel:${cid}`) ?? '';
        const list: TranscriptMessage[] = [...messages.values()]
          .filter((m) => str(m.channelId) === cid)
          .map((m) => {
            const from = (m.from ?? {}) as { displayName?: string | null; id?: string | null };
            const key = `${cid}:${str(m.messageId)}`;
            const images = (imagesOf.get(key) ?? []).map((id) => paths.get(id) ?? '').filter((p) => p.startsWith(base)).map((p) => p.slice(base.length)).sort();
            return { id: str(m.messageId), replyToId: m.replyToId ? str(m.replyToId) : null, author: from.displayName ?? from.id ?? 'unknown', created: str(m.created), edited: m.edited ? str(m.edited) : null, subject: m.subject ? str(m.subject) : null, body: str(m.body), images };
          });
        return channelTranscript(team, str(c.displayName), list);
      },
    });
  }
  return finish(entries);
}

/** <group>/<conversation topic>/<time> <sender>.eml, one per post. */
function layoutGroup(versions: ItemVersion[]): LaidOut {
  const entries: Entry[] = [];
  for (const v of versions) {
    const m = v.meta as Meta;
    if (m.type === 'thread') entries.push({ e: { id: `thread:${str(m.threadId)}`, parentId: null, name: str(m.topic) || '(no topic)', folder: true } });
    else if (m.type === 'post') {
      const from = (m.from ?? {}) as { name?: string | null };
      const when = str(m.receivedDateTime).slice(0, 19).replace(/:/g, '-');
      entries.push({ e: { id: str(m.id), parentId: `thread:${str(m.threadId)}`, name: itemFileName(`${when} ${from.name ?? ''}`.trim(), str(m.postId), 'eml'), folder: false }, chunks: v.chunkIds.toString('base64'), mtime: dateOf(m.receivedDateTime) });
    }
  }
  return finish(entries);
}

/** The layout of a site's, team's or group's snapshot under its folder. */
export function layoutScope(service: Service, versions: ItemVersion[], displayName: string): LaidOut {
  if (service === 'sharepoint') return layoutSite(versions);
  if (service === 'teams') return layoutTeam(versions, displayName);
  return layoutGroup(versions);
}
