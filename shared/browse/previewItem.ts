import { BackupError } from '../errors';
import type { Service } from '../m365';
import type { ItemVersion } from '../repo';
import { fetchChunks } from '../restore/chunkFetcher';
import { serviceSnapshot, versionsOf, type BrowseScope } from './browseTarget';
import { itemOf, type ItemRow } from './itemView';
import { isAttachment, leaves, parseMime, parseParams, partText } from './mime';
import { previewDocument } from './sanitizeHtml';

/** Items larger than this are not previewed (restore them instead). */
export const PREVIEW_MAX_BYTES = 20 * 1024 * 1024;
/** Image types shown as images (SVG is not one: it can carry script). */
const IMAGE_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', bmp: 'image/bmp' };
const TEXT_EXT = /\.(txt|md|csv|log|json|xml|ya?ml|ini|cfg|ts|js|py|sh|ps1|sql|html?|css)$/i;
const TEXT_PREVIEW_CHARS = 200_000;

export interface ItemPreview {
  item: ItemRow;
  snapshot: number;
  /** How the console shows it: mail and text in a sandboxed frame or as text, an image, fields. */
  kind: 'mail' | 'text' | 'image' | 'event' | 'contact' | 'none';
  /** Header-like fields (subject, from, to, date; event times and place; contact names, mails, phones). */
  fields: { label: string; value: string }[];
  attachments?: { name: string; contentType: string; size: number }[];
  text?: string;
  /** Why there is no preview (kind "none"). */
  note?: string;
}

/** The decoded content of one item (served to the sandboxed frame or as an image). */
export interface ItemContent {
  contentType: string;
  body: Buffer;
}

async function findItem(scope: BrowseScope, o: { user: string; service: Service; snapshot: string; item: string }): Promise<{ version: ItemVersion; row: ItemRow; snapshot: number }> {
  const s = await serviceSnapshot(scope, o.user, o.service, o.snapshot);
  const version = (await versionsOf(scope, s)).find((v) => v.meta.id === o.item && v.meta.type !== 'folder');
  const row = version && itemOf(version.meta);
  if (!version || !row) throw new BackupError('NOT_FOUND', `Snapshot ${s.snapshot.seq} of the ${o.service} of ${s.user.userPrincipalName} has no item "${o.item.slice(0, 120)}".`);
  return { version, row, snapshot: s.snapshot.seq };
}

async function contentOf(scope: BrowseScope, v: ItemVersion): Promise<Buffer> {
  const ids: string[] = [];
  for (let i = 0; i < v.chunkIds.length; i += 32) ids.push(v.chunkIds.toString('hex', i, i + 32));
  const got = new Map<string, Buffer>();
  let total = 0;
  const failures: string[] = [];
  const { missing } = await fetchChunks(scope.repo, scope.key, new Set(ids), (hex, data) => {
    total += data.length;
    if (total > PREVIEW_MAX_BYTES * 2) throw new BackupError('PAYLOAD_TOO_LARGE', 'The item is too large to preview; restore it instead.');
    got.set(hex, data);
  }, (_pack, _chunks, reason) => failures.push(reason));
  if (missing.size || failures.length) throw new BackupError('INTEGRITY', `The item's content cannot be read: ${failures[0] ?? 'a chunk is missing from the index'}.`);
  return Buffer.concat(ids.map((h) => got.get(h)!));
}

const str = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');
const emails = (v: unknown) => (Array.isArray(v) ? v.map((e) => str((e as { address?: unknown; emailAddress?: { address?: unknown } })?.address ?? (e as { emailAddress?: { address?: unknown } })?.emailAddress?.address)).filter(Boolean).join(', ') : '');
const when = (v: unknown) => {
  const d = v as { dateTime?: unknown; timeZone?: unknown } | undefined;
  return d && typeof d.dateTime === 'string' ? `${d.dateTime}${typeof d.timeZone === 'string' ? ` (${d.timeZone})` : ''}` : '';
};
const fieldsOf = (pairs: [string, string][]) => pairs.filter(([, v]) => v !== '').map(([label, value]) => ({ label, value }));

function mailParts(raw: Buffer): { text?: string; html?: string; attachments: { name: string; contentType: string; size: number }[]; headers: Map<string, string> } {
  const root = parseMime(raw);
  let text: string | undefined;
  let html: string | undefined;
  const attachments: { name: string; contentType: string; size: number }[] = [];
  for (const p of leaves(root)) {
    if (isAttachment(p)) {
      const disposition = parseParams(p.headers.get('content-disposition') ?? '');
      attachments.push({ name: disposition.params.filename ?? p.params.name ?? '(unnamed)', contentType: p.contentType, size: p.body.length });
    } else if (p.contentType === 'text/html' && html === undefined) html = partText(p);
    else if (p.contentType === 'text/plain' && text === undefined) text = partText(p);
  }
  return { ...(text !== undefined ? { text } : {}), ...(html !== undefined ? { html } : {}), attachments, headers: root.headers };
}

function extension(name: string): string {
  return /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
}

/** What the console shows of one item: its fields, and text or the means to show it. */
export async function previewItem(scope: BrowseScope, o: { user: string; service: Service; snapshot: string; item: string }): Promise<ItemPreview> {
  const { version, row, snapshot } = await findItem(scope, o);
  const base = { item: row, snapshot };
  if ((row.size ?? 0) > PREVIEW_MAX_BYTES) return { ...base, kind: 'none', fields: [], note: 'The item is too large to preview; restore it instead.' };
  if (row.type === 'message') {
    const mail = mailParts(await contentOf(scope, version));
    const m = version.meta;
    return {
      ...base,
      kind: 'mail',
      fields: fieldsOf([['Subject', row.name], ['From', row.sender ?? ''], ['To', row.participants.slice(row.sender ? 1 : 0).join(', ')], ['Date', str(m.receivedDateTime)]]),
      attachments: mail.attachments,
      ...(mail.text !== undefined ? { text: mail.text.slice(0, TEXT_PREVIEW_CHARS) } : {}),
    };
  }
  if (row.type === 'event' || row.type === 'contact') {
    const g = JSON.parse((await contentOf(scope, version)).toString('utf8')) as Record<string, unknown>;
    if (row.type === 'event') {
      const loc = g.location as { displayName?: unknown } | undefined;
      const organizer = g.organizer as { emailAddress?: { address?: unknown } } | undefined;
      const attendees = Array.isArray(g.attendees) ? g.attendees.map((a) => (a as { emailAddress?: unknown }).emailAddress) : [];
      return { ...base, kind: 'event', fields: fieldsOf([['Subject', str(g.subject)], ['Start', when(g.start)], ['End', when(g.end)], ['All day', g.isAllDay ? 'yes' : ''], ['Location', str(loc?.displayName)], ['Organizer', str(organizer?.emailAddress?.address)], ['Attendees', emails(attendees)]]), ...(typeof g.bodyPreview === 'string' ? { text: g.bodyPreview } : {}) };
    }
    const phones = [...(Array.isArray(g.businessPhones) ? g.businessPhones : []), g.mobilePhone, ...(Array.isArray(g.homePhones) ? g.homePhones : [])].map(str).filter(Boolean).join(', ');
    return { ...base, kind: 'contact', fields: fieldsOf([['Name', str(g.displayName)], ['Given name', str(g.givenName)], ['Surname', str(g.surname)], ['E-mail', emails(g.emailAddresses)], ['Phone', phones], ['Company', str(g.companyName)], ['Job title', str(g.jobTitle)]]) };
  }
  if (row.type === 'file') {
    const ext = extension(row.name);
    if (IMAGE_TYPES[ext]) return { ...base, kind: 'image', fields: fieldsOf([['Name', row.name], ['Modified', row.date ?? '']]) };
    if (TEXT_EXT.test(row.name) || row.mimeType?.startsWith('text/')) {
      const text = (await contentOf(scope, version)).toString('utf8');
      return { ...base, kind: 'text', fields: fieldsOf([['Name', row.name], ['Modified', row.date ?? '']]), text: text.slice(0, TEXT_PREVIEW_CHARS) };
    }
    return { ...base, kind: 'none', fields: fieldsOf([['Name', row.name], ['Modified', row.date ?? '']]), note: 'No preview for this kind of file; restore it to open it.' };
  }
  return { ...base, kind: 'none', fields: [], note: 'No preview for this kind of item.' };
}

/**
 * The content the console frames or shows: a message as a sanitised HTML document (its HTML part
 * rebuilt from an allow-list, or its text escaped), an image as itself. Nothing else is served raw.
 */
export async function itemContent(scope: BrowseScope, o: { user: string; service: Service; snapshot: string; item: string }): Promise<ItemContent> {
  const { version, row } = await findItem(scope, o);
  if ((row.size ?? 0) > PREVIEW_MAX_BYTES) throw new BackupError('PAYLOAD_TOO_LARGE', 'The item is too large to preview; restore it instead.');
  if (row.type === 'message') {
    const mail = mailParts(await contentOf(scope, version));
    return { contentType: 'text/html; charset=utf-8', body: Buffer.from(previewDocument(mail.html !== undefined ? { html: mail.html } : { text: mail.text ?? '' })) };
  }
  const image = row.type === 'file' ? IMAGE_TYPES[extension(row.name)] : undefined;
  if (image) return { contentType: image, body: await contentOf(scope, version) };
  throw new BackupError('USAGE', 'Only messages and images have framed content; the preview itself carries text and fields.');
}
