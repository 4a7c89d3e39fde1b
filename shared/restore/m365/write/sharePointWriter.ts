import { listAll } from '../../../graph';
import { scopeOf } from '../../../m365';
import { isStop, reasonOf, send } from './graphWrite';
import { OneDriveWriter } from './oneDriveWriter';
import { addCounts, countFailure, emptyCounts, type RestoreItem, type ServiceWriter, type WriterContext, type WriterCounts } from './serviceWriter';

type Drive = { id: string; name?: string };

/** A library's key in the plan and the restore map (its catalog id). */
const libraryKey = (driveId: string) => `library:${driveId}`;

/**
 * SharePoint: a site's document libraries back into the site. Each library is found in the target
 * site by its name (then by its drive id, for a renamed one), or recreated (a list with the
 * documentLibrary template: POST /sites/{id}/lists, which Sites.ReadWrite.All allows) when it is
 * gone; its folders and files then go through the OneDrive writer unchanged, pointed at the
 * library's drive (small PUT, upload sessions, fileSystemInfo, quickXorHash check, restore map).
 * Lists, list items and sharing permissions are not written back (the plan leaves them out): they
 * restore to folders only.
 */
export class SharePointWriter implements ServiceWriter {
  readonly service = 'sharepoint' as const;
  private readonly files = new OneDriveWriter();

  async write(ctx: WriterContext, items: readonly RestoreItem[]): Promise<WriterCounts> {
    const counts = emptyCounts();
    const site = scopeOf(ctx.targetUserId)?.id ?? ctx.targetUserId;
    let live: Drive[] | undefined;
    const drives = {
      list: async () => (live ??= await listAll<Drive>(ctx.conn, `/sites/${site}/drives?$select=id,name`, `the document libraries of site ${site}`)),
      changed: () => (live = undefined),
    };
    // Each library with its items, in plan order; a top-level item's parent (the library) is the drive's root.
    const groups = new Map<string, { name: string; library?: RestoreItem; items: RestoreItem[] }>();
    for (const i of items) {
      const driveId = String(i.meta.driveId ?? '');
      let g = groups.get(driveId);
      if (!g) groups.set(driveId, (g = { name: String((i.meta.type === 'library' ? i.meta.name : i.meta.libraryName) ?? ''), items: [] }));
      if (i.meta.type === 'library') g.library = i;
      else g.items.push(i.meta.parentId === libraryKey(driveId) ? { ...i, meta: { ...i.meta, parentId: null } } : i);
    }
    for (const [driveId, g] of groups) {
      let target: { id: string; created: boolean };
      try {
        target = await this.library(ctx, site, driveId, g.name, drives);
      } catch (e) {
        if (isStop(e)) throw e;
        const reason = reasonOf(e);
        if (g.library) countFailure(counts, g.name, reason);
        for (const i of g.items) countFailure(counts, `${g.name}/${String(i.meta.name ?? '')}`, `Its library could not be found or recreated (${reason}); it is retried by the next run.`);
        continue;
      }
      if (g.library) counts[target.created ? 'restored' : 'skipped']++;
      if (g.items.length > 0) addCounts(counts, await this.files.write({ ...ctx, drive: `/drives/${target.id}` }, g.items));
    }
    return counts;
  }

  /** The target site's drive of a backed-up library: the mapped one, the one of the same name, the same drive, else a new library. */
  private async library(ctx: WriterContext, site: string, driveId: string, name: string, drives: { list: () => Promise<Drive[]>; changed: () => void }): Promise<{ id: string; created: boolean }> {
    const all = await drives.list();
    const mapped = await ctx.map.get(libraryKey(driveId));
    const found = all.find((d) => d.id === mapped) ?? all.find((d) => (d.name ?? '').toLowerCase() === name.toLowerCase()) ?? all.find((d) => d.id === driveId);
    if (found) {
      if (found.id !== mapped) await ctx.map.set(libraryKey(driveId), found.id);
      return { id: found.id, created: false };
    }
    if (name === '') throw new Error('The backup does not name the library, so it cannot be recreated.');
    const list = await send<{ id: string }>(ctx.conn, 'POST', `/sites/${site}/lists`, `recreate the library "${name}"`, { displayName: name, list: { template: 'documentLibrary' } });
    const drive = await send<Drive>(ctx.conn, 'GET', `/sites/${site}/lists/${list.id}/drive?$select=id,name`, `the drive of the recreated library "${name}"`);
    drives.changed();
    await ctx.map.set(libraryKey(driveId), drive.id);
    return { id: drive.id, created: true };
  }
}
