/**
 * Which records of one user × service a selection keeps (the console's checkboxes: the ids a browse
 * listing or search gives, items or folders). A folder brings everything under it; every kept record
 * brings the folders above it, so the tree is rebuilt where it was. One rule for both restores of a
 * selection: the zip (its plan names files by path) and the restore into Microsoft 365.
 */
type Meta = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The ids a listing names a record by (an item's id; a mail or contact folder also by its folderId). */
export const listedIdsOf = (m: Meta) => [str(m.id), m.type === 'folder' ? str(m.folderId) : undefined].filter((x): x is string => x !== undefined);
/** The key children name a folder by (drive folders: id; mail and contact folders: folderId). */
const folderKey = (service: string, m: Meta) => (m.type !== 'folder' ? undefined : service === 'onedrive' ? str(m.id) : str(m.folderId));
/** The folder a record is in (null or absent at the top). */
const parentOf = (service: string, m: Meta) => (service === 'onedrive' || m.type === 'folder' ? str(m.parentId) : str(m.folderId));

/**
 * The records of `records` in the selection `wanted` (selected, under a selected folder, or a
 * folder above one of those), in their order; the selected ids met are added to `found`.
 */
export function keepSelected<T>(service: string, records: readonly T[], metaOf: (r: T) => Meta, wanted: ReadonlySet<string>, found: Set<string>): T[] {
  const byKey = new Map<string, T>();
  for (const r of records) {
    const k = folderKey(service, metaOf(r));
    if (k) byKey.set(k, r);
  }
  const up = (r: T) => byKey.get(parentOf(service, metaOf(r)) ?? '');
  const selected = (r: T) => listedIdsOf(metaOf(r)).filter((id) => wanted.has(id));
  /** Selected itself, or under a selected folder (a folder loop ends the walk). */
  const inSelection = (r: T): boolean => {
    const seen = new Set<T>();
    for (let at: T | undefined = r; at !== undefined && !seen.has(at); at = up(at)) {
      seen.add(at);
      if (selected(at).length > 0) return true;
    }
    return false;
  };
  const keep = new Set<T>();
  for (const r of records) {
    for (const id of selected(r)) found.add(id);
    if (!inSelection(r)) continue;
    for (let at: T | undefined = r; at !== undefined && !keep.has(at); at = up(at)) keep.add(at);
  }
  return records.filter((r) => keep.has(r));
}
