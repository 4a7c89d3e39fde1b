import { isGraphReadFailure, listAll } from '../requests';
import { batchGet } from './batchGet';
import { readDeltaScopes } from './deltaBatch';
import { FOLDERS_SCOPE } from './mail';
import { isObject, type ServiceSource, type SourceChange, type SourceContext } from './types';

/** The default Contacts folder's scope name (its delta is /users/{id}/contacts/delta). */
export const DEFAULT_CONTACTS = 'default';

/** A contact folder as backed up: its parent is the folder it was listed under (null: a top folder). */
interface ContactFolder {
  id: string;
  displayName: string;
  parentId: string | null;
}

/** Contacts: the default folder and every contact folder (nested ones too), a delta each; contacts stored as Graph JSON. */
export class ContactsSource implements ServiceSource {
  readonly service = 'contacts' as const;
  constructor(private readonly ctx: SourceContext) {}

  /**
   * Every contact folder, nested ones too: /contactFolders lists only the top folders (those in the
   * default Contacts folder), so each folder's childFolders are read too (a contact folder has no
   * child count to skip the empty ones). The top list and the child lists of every folder the last
   * run knew (its cursors' scopes) go out together in JSON batches, so an unchanged hierarchy costs
   * one round trip; only a folder new since then is asked on its own. `parentId` is null for a top folder.
   */
  private async folders(known: string[]): Promise<ContactFolder[]> {
    const { conn, userId } = this.ctx;
    const topUrl = `/users/${userId}/contactFolders?$top=250`;
    const childUrl = (id: string) => `/users/${userId}/contactFolders/${id}/childFolders?$top=250`;
    const answered = await batchGet(conn, [topUrl, ...known.map(childUrl)]);
    type Listed = { id: string; displayName: string };
    // A batched answer counts only when it is the whole list (no next page); anything else is read on its own.
    const list = async (url: string, what: string): Promise<Listed[]> => {
      const body = answered.get(url);
      if (body && Array.isArray(body.value) && body['@odata.nextLink'] === undefined) return body.value as Listed[];
      return listAll<Listed>(conn, url, what);
    };
    const top = await list(topUrl, `contact folders of user ${userId}`);
    const out: ContactFolder[] = top.map((f) => ({ id: f.id, displayName: f.displayName, parentId: null }));
    const seen = new Set(out.map((f) => f.id));
    for (let i = 0; i < out.length; i++) {
      const parent = out[i]!;
      for (const c of await list(childUrl(parent.id), `child folders of contact folder ${parent.id}`)) {
        if (seen.has(c.id)) continue; // a loop in what Graph answered: each folder once
        seen.add(c.id);
        out.push({ id: c.id, displayName: c.displayName, parentId: parent.id });
      }
    }
    return out;
  }

  async *changes(cursors: Record<string, string>): AsyncIterable<SourceChange> {
    const { conn, userId } = this.ctx;
    let folders: ContactFolder[];
    try {
      folders = await this.folders(Object.keys(cursors).filter((k) => k !== FOLDERS_SCOPE && k !== DEFAULT_CONTACTS));
    } catch (e) {
      if (isGraphReadFailure(e)) {
        yield { kind: 'scopeFailed', scope: FOLDERS_SCOPE, reason: e.message };
        return;
      }
      throw e;
    }
    // The parent is part of the version: a folder moved into another one is recorded again.
    for (const f of folders)
      yield { kind: 'item', id: `folder:${f.id}`, scope: FOLDERS_SCOPE, version: f.parentId === null ? f.displayName : `${f.displayName}\0${f.parentId}`, meta: { type: 'folder', folderId: f.id, displayName: f.displayName, parentId: f.parentId } };
    yield { kind: 'scopeComplete', scope: FOLDERS_SCOPE, full: true };
    const live = new Set([DEFAULT_CONTACTS, ...folders.map((f) => f.id)]);
    for (const scope of Object.keys(cursors)) if (scope !== FOLDERS_SCOPE && !live.has(scope)) yield { kind: 'scopeGone', scope };

    const scopes = [{ id: DEFAULT_CONTACTS, url: `/users/${userId}/contacts/delta` }, ...folders.map((f) => ({ id: f.id, url: `/users/${userId}/contactFolders/${f.id}/contacts/delta` }))];
    const convert = (s: { id: string }) => (raw: unknown): SourceChange => {
      const id = isObject(raw) && typeof raw.id === 'string' ? raw.id : undefined;
      if (!isObject(raw) || !id) return { kind: 'failed', id: '?', scope: s.id, reason: 'a contact without an id' };
      if (raw['@removed']) return { kind: 'removed', id, scope: s.id };
      if ((raw.emailAddresses !== undefined && !Array.isArray(raw.emailAddresses)) || (raw.displayName !== undefined && raw.displayName !== null && typeof raw.displayName !== 'string'))
        return { kind: 'failed', id, scope: s.id, reason: 'malformed contact (emailAddresses or displayName)' };
      const data = Buffer.from(JSON.stringify(raw));
      return { kind: 'item', id, scope: s.id, version: String(raw.changeKey ?? raw['@odata.etag'] ?? ''), meta: { type: 'contact', folderId: s.id, displayName: raw.displayName ?? '' }, content: async () => ({ data }) };
    };
    // Every folder's delta; those with a cursor asked together in JSON batches (one round trip when nothing changed).
    yield* readDeltaScopes(
      conn,
      scopes.map((s) => ({ scope: s.id, initialUrl: s.url, cursor: cursors[s.id], what: `contact delta of folder ${s.id}`, headers: { Prefer: `odata.maxpagesize=${this.ctx.pageSize}` }, convert: convert(s) })),
    );
  }
}
