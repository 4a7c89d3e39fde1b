import { isGraphReadFailure, getBytes, listAll } from '../requests';
import { readDeltaScopes } from './deltaBatch';
import { isObject, type ServiceSource, type SourceChange, type SourceContext } from './types';

export const FOLDERS_SCOPE = 'folders';

interface MailFolder {
  id: string;
  displayName: string;
  parentFolderId?: string;
  childFolderCount?: number;
  wellKnownName?: string;
}

const WELL_KNOWN = ['inbox', 'sentitems', 'drafts', 'deleteditems', 'archive', 'junkemail', 'outbox'];

const addresses = (v: unknown) =>
  Array.isArray(v) ? v.filter(isObject).map((r) => (isObject(r.emailAddress) ? { name: r.emailAddress.name ?? null, address: r.emailAddress.address ?? null } : null)).filter(Boolean) : [];

/**
 * Exchange mail: every folder (nested and well-known ones; the folder list is read in full each
 * run), then a message delta per folder. Each message is its exact MIME from $value plus a
 * metadata record.
 */
export class MailSource implements ServiceSource {
  readonly service = 'mail' as const;
  constructor(private readonly ctx: SourceContext) {}

  private async folders(): Promise<MailFolder[]> {
    const { conn, userId } = this.ctx;
    const all: MailFolder[] = [];
    const top = await listAll<MailFolder>(conn, `/users/${userId}/mailFolders?includeHiddenFolders=true&$top=250`, `mail folders of user ${userId}`);
    const queue = [...top];
    while (queue.length > 0) {
      const f = queue.shift()!;
      all.push(f);
      if ((f.childFolderCount ?? 0) > 0) queue.push(...(await listAll<MailFolder>(conn, `/users/${userId}/mailFolders/${f.id}/childFolders?includeHiddenFolders=true&$top=250`, `child folders of ${f.id}`)));
    }
    // Which of them are well-known (Graph does not say in the folder itself).
    const ids = new Set(all.map((f) => f.id));
    const root = top[0]?.parentFolderId;
    for (const name of WELL_KNOWN) {
      const match = all.find((f) => f.displayName.toLowerCase().replace(/\s/g, '') === name || f.displayName.toLowerCase() === name);
      if (match && ids.has(match.id)) match.wellKnownName ??= name;
    }
    return all.map((f) => ({ ...f, parentFolderId: f.parentFolderId === root ? undefined : f.parentFolderId }));
  }

  async *changes(cursors: Record<string, string>): AsyncIterable<SourceChange> {
    const { conn, userId } = this.ctx;
    let folders: MailFolder[];
    try {
      folders = await this.folders();
    } catch (e) {
      if (isGraphReadFailure(e)) {
        yield { kind: 'scopeFailed', scope: FOLDERS_SCOPE, reason: e.message };
        return;
      }
      throw e;
    }
    for (const f of folders)
      yield { kind: 'item', id: `folder:${f.id}`, scope: FOLDERS_SCOPE, version: `${f.displayName}\0${f.parentFolderId ?? ''}`, meta: { type: 'folder', folderId: f.id, displayName: f.displayName, parentId: f.parentFolderId ?? null, wellKnownName: f.wellKnownName ?? null } };
    yield { kind: 'scopeComplete', scope: FOLDERS_SCOPE, full: true };
    const live = new Set(folders.map((f) => f.id));
    for (const scope of Object.keys(cursors)) if (scope !== FOLDERS_SCOPE && !live.has(scope)) yield { kind: 'scopeGone', scope };

    const specs = folders.map((f) => {
      const convert = (raw: unknown): SourceChange => {
        const id = isObject(raw) && typeof raw.id === 'string' ? raw.id : undefined;
        if (!isObject(raw) || !id) return { kind: 'failed', id: '?', scope: f.id, reason: 'a message without an id' };
        if (raw['@removed']) return { kind: 'removed', id, scope: f.id };
        if ((raw.subject !== null && raw.subject !== undefined && typeof raw.subject !== 'string') || typeof raw.receivedDateTime !== 'string')
          return { kind: 'failed', id, scope: f.id, reason: 'malformed message (subject or receivedDateTime)' };
        const from = isObject(raw.from) && isObject(raw.from.emailAddress) ? { name: raw.from.emailAddress.name ?? null, address: raw.from.emailAddress.address ?? null } : null;
        return {
          kind: 'item',
          id,
          scope: f.id,
          version: String(raw.changeKey ?? raw['@odata.etag'] ?? raw.lastModifiedDateTime ?? ''),
          meta: {
            type: 'message',
            folderId: f.id,
            subject: raw.subject ?? '',
            from,
            to: addresses(raw.toRecipients),
            cc: addresses(raw.ccRecipients),
            receivedDateTime: raw.receivedDateTime,
            sentDateTime: raw.sentDateTime ?? null,
            isRead: raw.isRead ?? null,
            flag: isObject(raw.flag) ? (raw.flag.flagStatus ?? null) : null,
            categories: Array.isArray(raw.categories) ? raw.categories : [],
            importance: raw.importance ?? null,
            hasAttachments: raw.hasAttachments ?? null,
            internetMessageId: raw.internetMessageId ?? null,
          },
          content: async () => ({ data: await getBytes(conn, `/users/${userId}/messages/${id}/$value`, `the MIME of message ${id}`) }),
        };
      };
      return {
        scope: f.id,
        initialUrl: `/users/${userId}/mailFolders/${f.id}/messages/delta?$select=id,subject,from,toRecipients,ccRecipients,receivedDateTime,sentDateTime,isRead,flag,categories,importance,hasAttachments,internetMessageId,changeKey,parentFolderId`,
        cursor: cursors[f.id],
        what: `message delta of folder ${f.displayName}`,
        headers: { Prefer: `odata.maxpagesize=${this.ctx.pageSize}` },
        convert,
      };
    });
    // A message delta per folder; those with a cursor asked together in JSON batches of 20 (an unchanged mailbox: one round trip per 20 folders).
    yield* readDeltaScopes(conn, specs);
  }
}
