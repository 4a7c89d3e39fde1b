import { readAll } from './itemContent';
import { CONTENT_IN_FLIGHT } from './slots';
import { isStop, odataString, reasonOf, send, sendOr404, statusOf } from './graphWrite';
import { foldersThenItems } from './foldersFirst';
import { countFailure, emptyCounts, type RestoreItem, type ServiceWriter, type WriterContext, type WriterCounts } from './serviceWriter';

/** Properties Graph sets itself: never sent back on create. */
const READ_ONLY = new Set(['id', 'changeKey', 'createdDateTime', 'lastModifiedDateTime', 'parentFolderId', '@removed', 'photo']);

/** A contact as stored (the Graph JSON of the backup) made into a create body. */
export function contactBody(stored: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(stored).filter(([k]) => !READ_ONLY.has(k) && !k.startsWith('@odata.')));
}

/**
 * Contacts: the folder tree by path (a folder by name under its parent, an existing one reused; a
 * child folder through its parent's childFolders) and contacts from their stored JSON. In place,
 * default-folder contacts go back to the default Contacts folder; to another user, everything goes
 * into one new folder named for the source and date (the top folders as its child folders, the
 * tree kept below them). A contact
 * already there (restore map, or the same display name in its folder) is skipped; `rename` writes
 * another; `replace` creates the new one, then deletes the old one.
 */
export class ContactsWriter implements ServiceWriter {
  readonly service = 'contacts' as const;

  async write(ctx: WriterContext, items: readonly RestoreItem[]): Promise<WriterCounts> {
    const counts = emptyCounts();
    const box = `/users/${ctx.targetUserId}`;
    const root = ctx.destinationRoot ? (await this.folder(ctx, `${box}/contactFolders`, ctx.destinationRoot, '__root__')).id : undefined;
    /** Where a folder's contacts are listed and created. */
    const contactsOf = (folderId: string | undefined) => (folderId ? `${box}/contactFolders/${folderId}/contacts` : `${box}/contacts`);
    await foldersThenItems(items, async (item) => {
      const m = item.meta;
      const label = String(m.displayName ?? '');
      try {
        if (m.type === 'folder') {
          // The plan puts parents first: a child folder goes under its restored parent (the top: the root, or the top folders in place).
          const parentSource = (m.parentId as string | null) ?? null;
          const parent = parentSource === null ? root : await ctx.map.get(`folder:${parentSource}`);
          if (parentSource !== null && !parent) {
            countFailure(counts, label, 'Its parent folder could not be restored; it is retried by the next run.');
            return;
          }
          const r = await this.folder(ctx, parent ? `${box}/contactFolders/${parent}/childFolders` : `${box}/contactFolders`, label, item.sourceId);
          counts[r.created ? 'restored' : 'skipped']++;
          return;
        }
        const inDefault = m.folderId === 'default' || m.folderId == null;
        const folderId = inDefault ? root : await ctx.map.get(`folder:${String(m.folderId)}`);
        if (!inDefault && !folderId) {
          countFailure(counts, label, 'Its folder could not be restored; it is retried by the next run.');
          return;
        }
        counts[await this.contact(ctx, box, contactsOf(folderId), item)]++;
      } catch (e) {
        if (isStop(e)) throw e;
        countFailure(counts, label, reasonOf(e));
      }
    });
    return counts;
  }

  private async folder(ctx: WriterContext, collection: string, name: string, sourceId: string): Promise<{ id: string; created: boolean }> {
    const mapped = await ctx.map.get(sourceId);
    if (mapped && (await sendOr404(ctx.conn, 'GET', `/users/${ctx.targetUserId}/contactFolders/${mapped}?$select=id`, 'a contact folder'))) return { id: mapped, created: false };
    const find = async () => (await send<{ value?: { id: string }[] }>(ctx.conn, 'GET', `${collection}?$filter=${encodeURIComponent(`displayName eq ${odataString(name)}`)}`, `contact folder "${name}"`)).value?.[0];
    const existing = await find();
    let id = existing?.id;
    if (!id) {
      try {
        id = (await send<{ id: string }>(ctx.conn, 'POST', collection, `create contact folder "${name}"`, { displayName: name })).id;
      } catch (e) {
        id = statusOf(e) === 409 ? (await find())?.id : undefined;
        if (!id) throw e;
      }
    }
    await ctx.map.set(sourceId, id);
    return { id, created: !existing };
  }

  private async contact(ctx: WriterContext, box: string, collection: string, item: RestoreItem): Promise<'restored' | 'skipped' | 'renamed'> {
    const mapped = await ctx.map.get(item.sourceId);
    if (mapped && ctx.conflict !== 'replace' && (await sendOr404(ctx.conn, 'GET', `${box}/contacts/${mapped}?$select=id`, 'a restored contact'))) return 'skipped';
    const stored = (await CONTENT_IN_FLIGHT.run(3 * item.size, async () => JSON.parse((item.content ? await readAll(item.content()) : Buffer.from('{}')).toString('utf8')))) as Record<string, unknown>;
    const name = String(stored.displayName ?? item.meta.displayName ?? '');
    const existing = (await send<{ value?: { id: string }[] }>(ctx.conn, 'GET', `${collection}?$filter=${encodeURIComponent(`displayName eq ${odataString(name)}`)}&$select=id`, `contact "${name}"`)).value?.[0];
    if (existing && ctx.conflict === 'skip') {
      await ctx.map.set(item.sourceId, existing.id);
      return 'skipped';
    }
    const created = await send<{ id: string }>(ctx.conn, 'POST', collection, `create contact "${name}"`, contactBody(stored));
    await ctx.map.set(item.sourceId, created.id);
    if (!existing) return 'restored';
    if (ctx.conflict === 'rename') return 'renamed';
    await sendOr404(ctx.conn, 'DELETE', `${box}/contacts/${existing.id}`, 'delete the replaced contact');
    return 'restored';
  }
}
