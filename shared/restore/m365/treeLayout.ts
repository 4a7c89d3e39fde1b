import { isLossy, NameSpace } from './naming';

/** One entry of a restored tree: a folder or a file, under a parent folder id (null: the top). */
export interface TreeEntry {
  id: string;
  parentId: string | null;
  /** The stored name (a drive item's name, a folder's display name, or a prepared file name). */
  name: string;
  folder: boolean;
}

/** Where entries whose parent chain is broken (or loops) are put. */
export const ORPHANED = '_orphaned';

/**
 * Gives every entry a unique relative path (folders end in "/"). Names are claimed folder by
 * folder from the top down, in a fixed order (names that need no sanitising first, then by name
 * and id), in a case-insensitive namespace per folder: two items never share a path, and the same
 * tree gets the same paths in every restore (the CLI folder and the zip alike).
 * `reserved` names are kept free at the top (e.g. "_items.json").
 */
export function layoutTree(entries: readonly TreeEntry[], reserved: readonly string[] = []): Map<TreeEntry, string> {
  const folders = new Map<string, TreeEntry>();
  for (const e of entries) if (e.folder) folders.set(e.id, e);
  const children = new Map<string | null, TreeEntry[]>();
  const add = (parent: string | null, e: TreeEntry) => {
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(e);
  };
  for (const e of entries) add(e.parentId === null ? null : folders.has(e.parentId) ? `id:${e.parentId}` : ORPHAN_KEY, e);

  const paths = new Map<TreeEntry, string>();
  const queue: { key: string | null; path: string; space: NameSpace }[] = [{ key: null, path: '', space: new NameSpace(reserved) }];
  const place = (key: string | null, path: string, space: NameSpace) => {
    const list = (children.get(key) ?? [])
      .map((e) => ({ e, lossy: isLossy(e.name) }))
      .sort((a, b) => Number(a.lossy) - Number(b.lossy) || Number(b.e.folder) - Number(a.e.folder) || cmp(a.e.name, b.e.name) || cmp(a.e.id, b.e.id));
    for (const { e } of list) {
      if (paths.has(e)) continue; // a folder loop leads back to an entry placed already
      const name = space.claim(e.name, e.id);
      const p = path + name;
      if (e.folder) {
        paths.set(e, p + '/');
        queue.push({ key: `id:${e.id}`, path: p + '/', space: new NameSpace() });
      } else paths.set(e, p);
    }
  };
  const drain = () => {
    for (let q = queue.shift(); q; q = queue.shift()) place(q.key, q.path, q.space);
  };
  const top = queue[0]!;
  drain();
  // Entries not reached from the top: a missing parent (grouped under ORPHANED above), or folders that
  // are each other's parents. They go into one "_orphaned" folder; a loop is cut at its first folder.
  if (paths.size < entries.length) {
    const orphanPath = top.space.claim(ORPHANED, ORPHANED) + '/';
    const orphanSpace = new NameSpace();
    queue.push({ key: ORPHAN_KEY, path: orphanPath, space: orphanSpace });
    drain();
    for (;;) {
      const cut = entries.filter((e) => !paths.has(e)).sort((a, b) => cmp(a.id, b.id))[0];
      if (!cut) break;
      children.set(LOOP_KEY, [cut]);
      queue.push({ key: LOOP_KEY, path: orphanPath, space: orphanSpace });
      drain();
    }
  }
  return paths;
}

/** Keys of the children map: null (the top), "id:<folder id>", and these two. */
const ORPHAN_KEY = 'orphans';
const LOOP_KEY = 'loop';
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
