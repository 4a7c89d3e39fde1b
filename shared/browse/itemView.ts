/**
 * What the console shows of a stored metadata record: one shape for a message, file, event or
 * contact (name or subject, sender, date, size), and the folder it sits in. Records are read as
 * untrusted (a field of the wrong type is left out, never trusted).
 */
export interface ItemRow {
  id: string;
  type: string;
  name: string;
  sender?: string;
  /** Every address of the item (sender and recipients), for "participants" search. */
  participants: string[];
  date?: string;
  size?: number;
  hasAttachments?: boolean;
  /** The folder (mail/contact folder, drive folder) it is in; absent at the top. */
  folder?: string;
  mimeType?: string;
}

export interface FolderNode {
  id: string;
  name: string;
  parent?: string;
  items: number;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function address(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const a = v as { name?: unknown; address?: unknown };
  const addr = str(a.address);
  const name = str(a.name);
  return addr ? (name && name !== addr ? `${name} <${addr}>` : addr) : name;
}

const addresses = (v: unknown): string[] => (Array.isArray(v) ? v.map(address).filter((a): a is string => !!a) : []);

export function isFolder(meta: Record<string, unknown>): boolean {
  return meta.type === 'folder';
}

/** A folder record as a tree node (mail and contact folders by folderId; drive folders by id). */
export function folderOf(meta: Record<string, unknown>): Omit<FolderNode, 'items'> | undefined {
  if (!isFolder(meta)) return undefined;
  const id = str(meta.folderId) ?? str(meta.id);
  if (!id) return undefined;
  const parent = str(meta.parentId);
  const name = str(meta.displayName) ?? str(meta.name) ?? '';
  return { id, name: name || '(top)', ...(parent ? { parent } : {}) };
}

export function itemOf(meta: Record<string, unknown>): ItemRow | undefined {
  const id = str(meta.id);
  if (!id || isFolder(meta)) return undefined;
  const type = str(meta.type) ?? 'item';
  const size = typeof meta.size === 'number' ? meta.size : undefined;
  const common = { id, type, ...(size !== undefined ? { size } : {}) };
  if (type === 'message') {
    const sender = address(meta.from);
    const participants = [...(sender ? [sender] : []), ...addresses(meta.to), ...addresses(meta.cc)];
    const date = str(meta.receivedDateTime) ?? str(meta.sentDateTime);
    const folder = str(meta.folderId);
    return { ...common, name: str(meta.subject) ?? '', ...(sender ? { sender } : {}), participants, ...(date ? { date } : {}), hasAttachments: meta.hasAttachments === true, ...(folder ? { folder } : {}) };
  }
  if (type === 'file') {
    const date = str(meta.modified);
    const folder = str(meta.parentId);
    const mimeType = str(meta.mimeType);
    return { ...common, name: str(meta.name) ?? '', participants: [], ...(date ? { date } : {}), ...(folder ? { folder } : {}), ...(mimeType ? { mimeType } : {}) };
  }
  if (type === 'event') {
    const start = meta.start as { dateTime?: unknown } | undefined;
    const date = str(start?.dateTime);
    return { ...common, name: str(meta.subject) ?? '', participants: [], ...(date ? { date } : {}) };
  }
  const folder = str(meta.folderId);
  return { ...common, name: str(meta.displayName) ?? str(meta.subject) ?? str(meta.name) ?? '', participants: [], ...(folder ? { folder } : {}) };
}
