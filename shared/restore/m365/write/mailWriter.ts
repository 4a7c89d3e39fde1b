import type { GraphConnection } from '../../../graph';
import { readAll } from './itemContent';
import { CONTENT_IN_FLIGHT } from './slots';

/** Copies of a message's size held while it is imported (chunks, MIME, base64 string, JSON body, request). */
const MIME_COST_FACTOR = 5;
import { betaUrl, isStop, odataString, reasonOf, send, sendOr404, statusOf } from './graphWrite';
import { summarizeMime } from './mimeParts';
import { foldersThenItems } from './foldersFirst';
import { writeMailboxConfig } from './mailboxConfigWriter';
import { countFailure, emptyCounts, type RestoreItem, type ServiceWriter, type WriterContext, type WriterCounts } from './serviceWriter';
import { putRange } from './uploadBody';

/** Attachments up to this size go in one POST; Graph wants an upload session above 3 MB. */
const INLINE_ATTACHMENT_MAX = 3 * 1024 * 1024;
/** PidTagMessageFlags value: read (1) or not (0); never the unsent bit (8), so no draft. */
const MSGFLAG_READ = 1;

type Folder = { id: string; displayName?: string };

/**
 * Mail: the folder tree by path (well-known folders by their well-known names, an existing folder
 * of the same name reused), each message from its stored MIME through beta `importMime` (not a
 * draft, not sent); when beta refuses it, JSON with PidTagMessageFlags (no unsent bit) and the
 * submit and delivery times, plus its attachments. Then read state, flag and categories. A message
 * already there (restore map, or the same Internet message id in the folder) is skipped; `rename`
 * writes another copy; `replace` creates the new one first, then deletes the old one.
 */
export class MailWriter implements ServiceWriter {
  readonly service = 'mail' as const;
  /** Connections whose beta importMime was refused (a role or the endpoint missing): their messages go the JSON way. */
  private readonly importRefused = new WeakSet<GraphConnection>();

  async write(ctx: WriterContext, items: readonly RestoreItem[]): Promise<WriterCounts> {
    const counts = emptyCounts();
    const box = `/users/${ctx.targetUserId}`;
    const top = ctx.destinationRoot ? (await this.folder(ctx, box, 'msgfolderroot', ctx.destinationRoot, '__root__')).id : 'msgfolderroot';
    await foldersThenItems(items, async (item) => {
      const m = item.meta;
      const label = String(m.type === 'folder' ? m.displayName : m.subject ?? '');
      try {
        if (m.type === 'folder') {
          const parentSource = (m.parentId as string | null) ?? null;
          const parent = parentSource === null ? top : await ctx.map.get(`folder:${parentSource}`);
          if (!parent) {
            countFailure(counts, label, 'Its parent folder could not be restored; it is retried by the next run.');
            return;
          }
          const wellKnown = !ctx.destinationRoot && parentSource === null && typeof m.wellKnownName === 'string' ? m.wellKnownName : undefined;
          const r = await this.folder(ctx, box, parent, String(m.displayName ?? ''), item.sourceId, wellKnown);
          counts[r.created ? 'restored' : 'skipped']++;
        } else if (m.type === 'config') {
          await writeMailboxConfig(ctx, box, item, counts); // rules, categories, settings: after the unit's folders
        } else {
          const folder = await ctx.map.get(`folder:${String(m.folderId)}`);
          if (!folder) {
            countFailure(counts, label, 'Its folder could not be restored; it is retried by the next run.');
            return;
          }
          counts[await this.message(ctx, box, folder, item)]++;
        }
      } catch (e) {
        if (isStop(e)) throw e;
        countFailure(counts, label, reasonOf(e));
      }
    });
    return counts;
  }

  private async folder(ctx: WriterContext, box: string, parent: string, name: string, sourceId: string, wellKnown?: string): Promise<{ id: string; created: boolean }> {
    const mapped = await ctx.map.get(sourceId);
    if (mapped && (await sendOr404<Folder>(ctx.conn, 'GET', `${box}/mailFolders/${mapped}?$select=id`, 'a mail folder'))) return { id: mapped, created: false };
    if (wellKnown) {
      const f = await sendOr404<Folder>(ctx.conn, 'GET', `${box}/mailFolders/${encodeURIComponent(wellKnown)}?$select=id`, `the ${wellKnown} folder`);
      if (f) {
        await ctx.map.set(sourceId, f.id);
        return { id: f.id, created: false };
      }
    }
    const find = async () =>
      (await send<{ value?: Folder[] }>(ctx.conn, 'GET', `${box}/mailFolders/${parent}/childFolders?$filter=${encodeURIComponent(`displayName eq ${odataString(name)}`)}&$select=id,displayName`, `mail folder "${name}"`)).value?.[0];
    const existing = await find();
    if (existing) {
      await ctx.map.set(sourceId, existing.id);
      return { id: existing.id, created: false };
    }
    let made: Folder;
    try {
      made = await send<Folder>(ctx.conn, 'POST', `${box}/mailFolders/${parent}/childFolders`, `create mail folder "${name}"`, { displayName: name });
    } catch (e) {
      const again = statusOf(e) === 409 ? await find() : undefined; // ErrorFolderExists: made meanwhile
      if (!again) throw e;
      made = again;
    }
    await ctx.map.set(sourceId, made.id);
    return { id: made.id, created: true };
  }

  private async message(ctx: WriterContext, box: string, folder: string, item: RestoreItem): Promise<'restored' | 'skipped' | 'renamed'> {
    const m = item.meta;
    // A created message is unread, unflagged, uncategorised: one PATCH only when the backup says otherwise.
    const flagged = typeof m.flag === 'string' && m.flag !== 'notFlagged';
    const categories = Array.isArray(m.categories) && m.categories.length > 0;
    const state =
      m.isRead === true || flagged || categories
        ? { ...(typeof m.isRead === 'boolean' ? { isRead: m.isRead } : {}), ...(flagged ? { flag: { flagStatus: m.flag } } : {}), ...(categories ? { categories: m.categories } : {}) }
        : undefined;
    // The PATCH is recorded apart ("state:<source id>"), so a message created by a run that stopped
    // before its PATCH gets its read state, flag and categories from the rerun instead of never.
    const stateKey = `state:${item.sourceId}`;
    const applyState = async (id: string) => {
      if (!state) return;
      await send(ctx.conn, 'PATCH', `${box}/messages/${id}`, 'set the read state, flag and categories', state);
      await ctx.map.set(stateKey, id);
    };
    const mapped = await ctx.map.get(item.sourceId);
    if (mapped && ctx.conflict !== 'replace' && (await sendOr404(ctx.conn, 'GET', `${box}/messages/${mapped}?$select=id`, 'a restored message'))) {
      if (state && (await ctx.map.get(stateKey)) !== mapped) await applyState(mapped);
      return 'skipped';
    }
    const internetId = typeof m.internetMessageId === 'string' ? m.internetMessageId : undefined;
    const existing = internetId
      ? (await send<{ value?: { id: string }[] }>(ctx.conn, 'GET', `${box}/mailFolders/${folder}/messages?$filter=${encodeURIComponent(`internetMessageId eq ${odataString(internetId)}`)}&$select=id`, 'a message of the folder')).value?.[0]
      : undefined;
    if (existing && ctx.conflict === 'skip') {
      await ctx.map.set(item.sourceId, existing.id);
      return 'skipped';
    }
    // Held at once while it is sent: the chunks, the MIME, its base64 and the JSON body around it.
    const created = await CONTENT_IN_FLIGHT.run(MIME_COST_FACTOR * item.size, async () => this.create(ctx.conn, box, folder, item.content ? await readAll(item.content()) : Buffer.alloc(0), m));
    await ctx.map.set(item.sourceId, created);
    await applyState(created);
    if (!existing) return 'restored';
    if (ctx.conflict === 'rename') return 'renamed';
    // replace: the new copy exists; only now the old one goes (a failure here over-produces, never loses).
    await sendOr404(ctx.conn, 'DELETE', `${box}/messages/${existing.id}`, 'delete the replaced message');
    return 'restored';
  }

  /** importMime (beta) first; the JSON way when beta refuses it (no role for it, not offered, too large). */
  private async create(conn: GraphConnection, box: string, folder: string, mime: Buffer, m: Record<string, unknown>): Promise<string> {
    if (!this.importRefused.has(conn)) {
      try {
        const r = await send<{ id: string }>(conn, 'POST', betaUrl(conn, `${box}/mailFolders/${folder}/importMime`), 'import a message (importMime)', { mimeContent: mime.toString('base64') });
        return r.id;
      } catch (e) {
        const s = statusOf(e);
        if (s !== 400 && s !== 403 && s !== 404 && s !== 413) throw e;
        if (s === 403 || s === 404) this.importRefused.add(conn); // a role or an endpoint missing: the same for every message
      }
    }
    const parsed = summarizeMime(mime);
    const recipients = (v: unknown) => (Array.isArray(v) ? v : []).map((a: { name?: string; address?: string }) => ({ emailAddress: { name: a.name ?? a.address ?? '', address: a.address ?? '' } }));
    const from = m.from as { name?: string; address?: string } | null;
    const props = [{ id: 'Integer 0x0E07', value: String(m.isRead ? MSGFLAG_READ : 0) }];
    if (typeof m.sentDateTime === 'string') props.push({ id: 'SystemTime 0x0039', value: m.sentDateTime });
    if (typeof m.receivedDateTime === 'string') props.push({ id: 'SystemTime 0x0E06', value: m.receivedDateTime });
    const created = await send<{ id: string }>(conn, 'POST', `${box}/mailFolders/${folder}/messages`, 'create a message', {
      subject: m.subject ?? '',
      body: parsed.body,
      ...(from ? { from: { emailAddress: { name: from.name ?? '', address: from.address ?? '' } } } : {}),
      toRecipients: recipients(m.to),
      ccRecipients: recipients(m.cc),
      ...(typeof m.internetMessageId === 'string' ? { internetMessageId: m.internetMessageId } : {}),
      singleValueExtendedProperties: props,
    });
    for (const a of parsed.attachments) {
      if (a.data.length <= INLINE_ATTACHMENT_MAX)
        await send(conn, 'POST', `${box}/messages/${created.id}/attachments`, `attach "${a.name}"`, { '@odata.type': '#microsoft.graph.fileAttachment', name: a.name, contentType: a.contentType, contentBytes: a.data.toString('base64') });
      else await this.uploadAttachment(conn, box, created.id, a);
    }
    return created.id;
  }

  /**
   * A large attachment (> 3 MB) through an upload session: fragments of 4 MiB in order to the
   * pre-authenticated URL (no Authorization header), 200 for each but the last, whose 201 creates it.
   */
  private async uploadAttachment(conn: GraphConnection, box: string, messageId: string, a: { name: string; contentType: string; data: Buffer }): Promise<void> {
    const s = await send<{ uploadUrl?: string }>(conn, 'POST', `${box}/messages/${messageId}/attachments/createUploadSession`, `upload "${a.name}"`, {
      AttachmentItem: { attachmentType: 'file', name: a.name, size: a.data.length, contentType: a.contentType },
    });
    const step = 4 * 1024 * 1024;
    for (let at = 0; at < a.data.length; at += step) {
      const part = a.data.subarray(at, Math.min(a.data.length, at + step));
      const release = await conn.gates.enter(undefined);
      try {
        // Streamed in small pieces (uploadBody.ts): the TLS socket never holds the whole fragment encrypted.
        const res = await putRange(String(s.uploadUrl), [part], at, a.data.length);
        await res.body?.cancel();
        if (res.status >= 300) throw new Error(`uploading attachment "${a.name}" answered ${res.status}`);
        // Only the last fragment's 201 means the attachment exists; a 200 there would leave the message without it.
        if (at + part.length === a.data.length && res.status !== 201) throw new Error(`uploading attachment "${a.name}" ended with ${res.status}, not 201 Created`);
      } finally {
        release();
      }
    }
  }
}
