import { QuickXorHash, type GraphConnection } from '../../../graph';
import { backoffMs, retryAfterMs } from '../../../graph/throttlingMiddleware';
import { sleep } from '../../../graph/gates';
import { graphError } from '../../../graph/requests';
import { blobBody, putRange } from './uploadBody';
import { CONTENT_IN_FLIGHT } from './slots';
import { CONTENT_WINDOW_BYTES } from './itemContent';
import { isStop, reasonOf, send, sendOr404, statusOf } from './graphWrite';
import { foldersThenItems } from './foldersFirst';
import { countFailure, emptyCounts, type ConflictMode, type RestoreItem, type ServiceWriter, type WriterContext, type WriterCounts } from './serviceWriter';

/** Files up to this size go up in one PUT (Graph takes up to 250 MB; small keeps a retry cheap). */
export const SIMPLE_UPLOAD_MAX = 4 * 1024 * 1024;
/** Upload-session fragments: a multiple of 320 KiB (Graph's rule), well under the 60 MiB cap. */
export const FRAGMENT_BYTES = 32 * 320 * 1024;
const FRAGMENT_ATTEMPTS = 5;

/**
 * Bytes a file holds in memory while it is sent, charged to the process-wide budget: a small file
 * whole (its chunks, then the one joined body); a large one a read window of chunks plus the
 * fragment being built and the one being sent.
 */
export const contentCost = (size: number) => (size <= SIMPLE_UPLOAD_MAX ? 2 * size : CONTENT_WINDOW_BYTES + 2 * FRAGMENT_BYTES);

type DriveItem = { id: string; name?: string; folder?: unknown; file?: { hashes?: { quickXorHash?: string } }; fileSystemInfo?: { lastModifiedDateTime?: string } };

const enc = (name: string) => encodeURIComponent(name);
const fileSystemInfo = (m: Record<string, unknown>) => ({
  ...(typeof m.created === 'string' ? { createdDateTime: m.created } : {}),
  ...(typeof m.modified === 'string' ? { lastModifiedDateTime: m.modified } : {}),
});

/**
 * OneDrive: the folder tree by name (an existing folder of the same name is used, never replaced),
 * files by PUT (small) or an upload session (streamed from the repository in 320 KiB-multiple
 * fragments, no Authorization header on the upload URL), times set through `fileSystemInfo`, and
 * the uploaded item's quickXorHash checked against the backup's.
 */
export class OneDriveWriter implements ServiceWriter {
  readonly service = 'onedrive' as const;

  async write(ctx: WriterContext, items: readonly RestoreItem[]): Promise<WriterCounts> {
    const counts = emptyCounts();
    const drive = ctx.drive ?? `/users/${ctx.targetUserId}/drive`;
    const top = ctx.destinationRoot ? (await this.folder(ctx, drive, 'root', ctx.destinationRoot, `__root__`)).id : 'root';
    await foldersThenItems(items, async (item) => {
      const m = item.meta;
      const name = String(m.name ?? '');
      try {
        const parentSource = (m.parentId as string | null) ?? null;
        const parent = parentSource === null ? top : await ctx.map.get(parentSource);
        if (!parent) {
          countFailure(counts, name, 'Its folder could not be restored; it is retried by the next run.');
          return;
        }
        if (m.type === 'folder') {
          const r = await this.folder(ctx, drive, parent, name, item.sourceId);
          counts[r.created ? 'restored' : 'skipped']++;
        } else {
          counts[await this.file(ctx, drive, parent, item)]++;
        }
      } catch (e) {
        if (isStop(e)) throw e;
        countFailure(counts, name, reasonOf(e));
      }
    });
    return counts;
  }

  private childPath = (drive: string, parent: string, name: string) => (parent === 'root' ? `${drive}/root:/${enc(name)}` : `${drive}/items/${parent}:/${enc(name)}`);

  /** A folder by name under its parent: the one there (or mapped), else created. */
  private async folder(ctx: WriterContext, drive: string, parent: string, name: string, sourceId: string): Promise<{ id: string; created: boolean }> {
    const mapped = await ctx.map.get(sourceId);
    if (mapped && (await sendOr404<DriveItem>(ctx.conn, 'GET', `${drive}/items/${mapped}`, `drive folder ${mapped}`))) return { id: mapped, created: false };
    const existing = await sendOr404<DriveItem>(ctx.conn, 'GET', this.childPath(drive, parent, name), `drive folder "${name}"`);
    if (existing?.folder) {
      await ctx.map.set(sourceId, existing.id);
      return { id: existing.id, created: false };
    }
    // A file of that name is there: the folder is created beside it under another name.
    const behavior = existing ? 'rename' : 'fail';
    let made: DriveItem;
    try {
      made = await send<DriveItem>(ctx.conn, 'POST', parent === 'root' ? `${drive}/root/children` : `${drive}/items/${parent}/children`, `create drive folder "${name}"`, { name, folder: {}, '@microsoft.graph.conflictBehavior': behavior });
    } catch (e) {
      if (statusOf(e) !== 409) throw e;
      const again = await sendOr404<DriveItem>(ctx.conn, 'GET', this.childPath(drive, parent, name), `drive folder "${name}"`);
      if (!again) throw e;
      made = again;
    }
    await ctx.map.set(sourceId, made.id);
    return { id: made.id, created: true };
  }

  private async file(ctx: WriterContext, drive: string, parent: string, item: RestoreItem): Promise<'restored' | 'skipped' | 'renamed'> {
    const m = item.meta;
    const name = String(m.name ?? '');
    const mapped = await ctx.map.get(item.sourceId);
    // Ours from an earlier run: left as is, unless `replace` asks to make it the backup's again (by name, below).
    if (mapped && ctx.conflict !== 'replace' && (await sendOr404<DriveItem>(ctx.conn, 'GET', `${drive}/items/${mapped}`, `drive file ${mapped}`))) return 'skipped';
    const existing = await sendOr404<DriveItem>(ctx.conn, 'GET', this.childPath(drive, parent, name), `drive file "${name}"`);
    if (existing && ctx.conflict === 'skip') {
      // The backup's own bytes already there (e.g. uploaded by a unit killed before its PATCH of
      // the times): the times are set and the file mapped, so a rerun completes what was cut.
      const same = typeof m.quickXorHash === 'string' && existing.file?.hashes?.quickXorHash === m.quickXorHash;
      const times = fileSystemInfo(m);
      if (same && times.lastModifiedDateTime && existing.fileSystemInfo?.lastModifiedDateTime !== times.lastModifiedDateTime)
        await send(ctx.conn, 'PATCH', `${drive}/items/${existing.id}`, `set the times of "${name}"`, { fileSystemInfo: times });
      if (same) await ctx.map.set(item.sourceId, existing.id);
      return 'skipped';
    }
    const behavior: ConflictMode | 'fail' = existing ? ctx.conflict : 'fail';
    let uploaded: DriveItem;
    const hash = new QuickXorHash();
    try {
      const upload = () => (item.size <= SIMPLE_UPLOAD_MAX ? this.simpleUpload(ctx, drive, parent, item, behavior, hash) : this.sessionUpload(ctx, drive, parent, item, behavior, hash));
      uploaded = await CONTENT_IN_FLIGHT.run(contentCost(item.size), upload);
    } catch (e) {
      if (statusOf(e) === 409 && behavior === 'fail') return 'skipped'; // created meanwhile (a parallel rerun): left untouched
      throw e;
    }
    const ours = hash.digestBase64();
    const backedUp = typeof m.quickXorHash === 'string' ? m.quickXorHash : undefined;
    const theirs = uploaded.file?.hashes?.quickXorHash;
    if ((backedUp && ours !== backedUp) || (theirs && theirs !== ours)) throw graphError('INTEGRITY', `"${name}" was uploaded but its quickXorHash does not match the backup's.`);
    // Times: set on the session's item, and always (again) by PATCH: OneDrive for Business has refused them at session creation.
    const times = fileSystemInfo(m);
    if (Object.keys(times).length > 0 && uploaded.fileSystemInfo?.lastModifiedDateTime !== times.lastModifiedDateTime)
      await send(ctx.conn, 'PATCH', `${drive}/items/${uploaded.id}`, `set the times of "${name}"`, { fileSystemInfo: times });
    await ctx.map.set(item.sourceId, uploaded.id);
    return behavior === 'rename' ? 'renamed' : 'restored';
  }

  private async simpleUpload(ctx: WriterContext, drive: string, parent: string, item: RestoreItem, behavior: string, hash: QuickXorHash): Promise<DriveItem> {
    const parts: Buffer[] = [];
    for await (const piece of item.content?.() ?? []) {
      hash.update(piece);
      parts.push(piece);
    }
    // A Blob of small pieces (one copy): the socket takes it piece by piece (see uploadBody.ts).
    return send<DriveItem>(ctx.conn, 'PUT', `${this.childPath(drive, parent, String(item.meta.name))}:/content?@microsoft.graph.conflictBehavior=${behavior}`, `upload "${String(item.meta.name)}"`, blobBody(parts), {
      'Content-Type': 'application/octet-stream',
    });
  }

  /** An upload session fed fragment by fragment from the content stream (one fragment in memory). */
  private async sessionUpload(ctx: WriterContext, drive: string, parent: string, item: RestoreItem, behavior: string, hash: QuickXorHash): Promise<DriveItem> {
    const name = String(item.meta.name);
    const session = await send<{ uploadUrl?: string }>(ctx.conn, 'POST', `${this.childPath(drive, parent, name)}:/createUploadSession`, `upload session for "${name}"`, {
      item: { '@microsoft.graph.conflictBehavior': behavior, name, fileSystemInfo: fileSystemInfo(item.meta) },
    });
    if (typeof session.uploadUrl !== 'string') throw graphError('SOURCE', `The upload session for "${name}" has no upload URL.`);
    const total = item.size;
    let offset = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let result: DriveItem | undefined;
    const flush = async (last: boolean) => {
      // The fragment is its pieces (views of the chunks read), sent without joining them.
      const fragment = pending;
      const length = pendingBytes;
      pending = [];
      pendingBytes = 0;
      const sent = await this.putFragment(ctx.conn, session.uploadUrl!, fragment, length, offset, total, name);
      offset += length;
      if (last || sent) result = sent ?? result;
    };
    for await (const piece of item.content?.() ?? []) {
      hash.update(piece);
      let rest = piece;
      while (rest.length > 0) {
        const take = Math.min(rest.length, FRAGMENT_BYTES - pendingBytes);
        pending.push(rest.subarray(0, take));
        pendingBytes += take;
        rest = rest.subarray(take);
        if (pendingBytes === FRAGMENT_BYTES && offset + pendingBytes < total) await flush(false);
      }
    }
    if (offset + pendingBytes !== total) throw graphError('INTEGRITY', `The backup of "${name}" holds ${offset + pendingBytes} bytes, not ${total}.`);
    await flush(true);
    if (!result) throw graphError('SOURCE', `The upload of "${name}" ended without the created item.`);
    return result;
  }

  /** PUTs one fragment to the pre-authenticated URL: no Authorization header (Graph may answer 401 to one). */
  private async putFragment(conn: GraphConnection, url: string, fragment: readonly Buffer[], length: number, offset: number, total: number, name: string): Promise<DriveItem | undefined> {
    const range = `bytes ${offset}-${offset + length - 1}/${total}`;
    for (let attempt = 1; ; attempt++) {
      const release = await conn.gates.enter(undefined);
      let res: Response | undefined;
      try {
        // Streamed in small pieces (uploadBody.ts): the TLS socket never holds the whole fragment encrypted.
        res = await putRange(url, fragment, offset, total).catch(() => undefined);
      } finally {
        release();
      }
      if (res && (res.status === 200 || res.status === 201)) return (await res.json()) as DriveItem;
      if (res && res.status === 202) {
        await res.body?.cancel();
        return undefined;
      }
      const status = res?.status;
      const text = res ? await res.text().catch(() => '') : 'no answer';
      if (attempt >= FRAGMENT_ATTEMPTS || (status !== undefined && status !== 429 && status < 500)) throw graphError('SOURCE', `Uploading "${name}" (${range.slice(0, range.indexOf('/'))}) failed: ${status ?? 'connection lost'} ${text.slice(0, 200)}`, { status });
      await sleep(retryAfterMs(res?.headers.get('retry-after') ?? null) ?? backoffMs(conn.retry, attempt));
    }
  }
}
