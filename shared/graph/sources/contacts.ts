import { isGraphReadFailure, listAll } from '../requests';
import { readDeltaScopes } from './deltaBatch';
import { FOLDERS_SCOPE } from './mail';
import { isObject, type ServiceSource, type SourceChange, type SourceContext } from './types';

/** The default Contacts folder's scope name (its delta is /users/{id}/contacts/delta). */
export const DEFAULT_CONTACTS = 'default';

/** Contacts: the default folder and every contact folder, a delta each; contacts stored as Graph JSON. */
export class ContactsSource implements ServiceSource {
  readonly service = 'contacts' as const;
  constructor(private readonly ctx: SourceContext) {}

  async *changes(cursors: Record<string, string>): AsyncIterable<SourceChange> {
    const { conn, userId } = this.ctx;
    let folders: { id: string; displayName: string }[];
    try {
      folders = await listAll(conn, `/users/${userId}/contactFolders?$top=250`, `contact folders of user ${userId}`);
    } catch (e) {
      if (isGraphReadFailure(e)) {
        yield { kind: 'scopeFailed', scope: FOLDERS_SCOPE, reason: e.message };
        return;
      }
      throw e;
    }
    for (const f of folders) yield { kind: 'item', id: `folder:${f.id}`, scope: FOLDERS_SCOPE, version: f.displayName, meta: { type: 'folder', folderId: f.id, displayName: f.displayName } };
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
