import { createHash } from 'node:crypto';
import { QuickXorHash } from '../../shared/graph/quickXorHash';
import type { SimContact, SimContactFolder, SimDriveItem, SimEvent, SimMailFolder, SimMessage, SimUserData } from '../tenant/model';

/** Graph v1.0 JSON shapes of the simulator's entities (property names and nesting as in the docs). */

const hashCache = new WeakMap<Buffer, string>();
function quickXor(b: Buffer): string {
  let h = hashCache.get(b);
  if (!h) {
    h = QuickXorHash.of(b);
    hashCache.set(b, h);
  }
  return h;
}

const changeKey = (id: string, version: number) => createHash('sha1').update(`${id}/${version}`).digest('base64').slice(0, 24);
const email = (a: { name: string; address: string }) => ({ emailAddress: { name: a.name, address: a.address } });

/** Graph's dateTimeTimeZone: local time without offset plus the zone name. */
const dateTimeTimeZone = (iso: string) => ({ dateTime: iso.replace('Z', '').replace(/\.(\d{3})$/, '.$10000'), timeZone: 'UTC' });

export function driveItemJson(u: SimUserData, i: SimDriveItem, downloadUrl?: string): Record<string, unknown> {
  const base: Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.driveItem',
    id: i.id,
    name: i.name,
    eTag: `"{${i.id.toUpperCase()}},${i.eTagVersion}"`,
    cTag: `"c:{${i.id.toUpperCase()}},${i.cTagVersion}"`,
    createdDateTime: i.created,
    lastModifiedDateTime: i.modified,
    size: i.content?.length ?? 0,
    fileSystemInfo: { createdDateTime: i.created, lastModifiedDateTime: i.modified },
    parentReference: i.parentId ? { driveType: 'business', driveId: u.driveId, id: i.parentId } : { driveType: 'business', driveId: u.driveId },
  };
  if (!i.parentId) base.root = {};
  if (i.folder) base.folder = { childCount: [...u.drive.values()].filter((c) => c.parentId === i.id).length };
  else {
    base.file = { mimeType: i.name.endsWith('.jpg') ? 'image/jpeg' : 'application/octet-stream', hashes: { quickXorHash: quickXor(i.content ?? Buffer.alloc(0)) } };
    if (downloadUrl) base['@microsoft.graph.downloadUrl'] = downloadUrl;
  }
  return base;
}

export const driveTombstoneJson = (u: SimUserData, id: string) => ({
  '@odata.type': '#microsoft.graph.driveItem',
  id,
  deleted: { state: 'deleted' },
  parentReference: { driveType: 'business', driveId: u.driveId },
});

export function mailFolderJson(u: SimUserData, f: SimMailFolder, rootId: string): Record<string, unknown> {
  const msgs = [...u.mailbox.messages.values()].filter((m) => m.folderId === f.id);
  return {
    id: f.id,
    displayName: f.displayName,
    parentFolderId: f.parentFolderId ?? rootId,
    childFolderCount: [...u.mailbox.folders.values()].filter((c) => c.parentFolderId === f.id).length,
    unreadItemCount: msgs.filter((m) => !m.isRead).length,
    totalItemCount: msgs.length,
    sizeInBytes: msgs.reduce((n, m) => n + m.mime.length, 0),
    isHidden: false,
  };
}

export function messageJson(m: SimMessage): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.message',
    '@odata.etag': `W/"${changeKey(m.id, m.version)}"`,
    id: m.id,
    createdDateTime: m.receivedDateTime,
    lastModifiedDateTime: m.receivedDateTime,
    changeKey: changeKey(m.id, m.version),
    categories: m.categories,
    receivedDateTime: m.receivedDateTime,
    sentDateTime: m.sentDateTime,
    hasAttachments: m.hasAttachments,
    internetMessageId: `<${m.internetMessageId}>`,
    subject: m.subject,
    importance: 'normal',
    parentFolderId: m.folderId,
    conversationId: createHash('sha1').update(m.subject).digest('base64').slice(0, 20),
    isRead: m.isRead,
    isDraft: m.isDraft ?? false,
    from: email(m.from),
    sender: email(m.from),
    toRecipients: m.to.map(email),
    ccRecipients: [],
    bccRecipients: [],
    flag: { flagStatus: m.flagStatus },
  };
}

export function eventJson(e: SimEvent): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.event',
    '@odata.etag': `W/"${changeKey(e.id, e.version)}"`,
    id: e.id,
    changeKey: changeKey(e.id, e.version),
    createdDateTime: e.start,
    lastModifiedDateTime: e.start,
    categories: [],
    iCalUId: `040000008200E00074C5B7101A82E008${createHash('sha1').update(e.id).digest('hex').toUpperCase()}`,
    subject: e.subject,
    isAllDay: e.isAllDay,
    isCancelled: false,
    showAs: 'busy',
    type: 'singleInstance',
    body: { contentType: 'text', content: e.bodyText },
    start: dateTimeTimeZone(e.start),
    end: dateTimeTimeZone(e.end),
    location: { displayName: e.location, locationType: 'default' },
    attendees: e.attendees.map((a) => ({ type: 'required', status: { response: 'none', time: '0001-01-01T00:00:00Z' }, ...email(a) })),
    organizer: email(e.organizer),
  };
}

export const contactFolderJson = (f: SimContactFolder, parentFolderId: string) => ({ id: f.id, displayName: f.displayName, parentFolderId });

export function contactJson(c: SimContact, defaultFolderId: string): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.contact',
    '@odata.etag': `W/"${changeKey(c.id, c.version)}"`,
    id: c.id,
    changeKey: changeKey(c.id, c.version),
    parentFolderId: c.folderId ?? defaultFolderId,
    givenName: c.givenName,
    surname: c.surname,
    displayName: c.displayName,
    emailAddresses: c.emailAddresses,
    mobilePhone: c.mobilePhone,
    businessPhones: c.businessPhones,
    homePhones: [],
    companyName: c.companyName,
  };
}

export const removedJson = (type: string, id: string) => ({ '@odata.type': `#microsoft.graph.${type}`, id, '@removed': { reason: 'deleted' } });

/** What a "corrupt" entity looks like on the wire: the right id, a shape that breaks the schema. */
export const malformedJson = (id: string) => ({ id, start: 'not-a-dateTimeTimeZone', emailAddresses: 'not-a-list', subject: 42, name: null });
