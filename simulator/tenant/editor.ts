import { buildMime } from './mime';
import { calendarOfEvent, calendarsOf, instancesOf, type SimException } from './calendars';
import { configOf, type SimMailboxConfig } from './mailboxConfig';
import {
  contactScope,
  type SimContact,
  type SimDriveItem,
  type SimEvent,
  type SimMailFolder,
  type SimMessage,
  type SimTenant,
  type SimUserData,
} from './model';

export interface NewMessage {
  subject: string;
  from: { name: string; address: string };
  to: { name: string; address: string }[];
  text: string;
  received: string;
  attachments?: { name: string; contentType: string; data: Buffer }[];
  isRead?: boolean;
  categories?: string[];
}

/**
 * The mutation API of the simulator: what tests and the demo do to a tenant between backups
 * (add, modify, rename, move, delete on every service). Every change is stamped, so it shows up in
 * exactly the deltas Graph would report it in.
 */
export class TenantEditor {
  constructor(readonly tenant: SimTenant) {}

  private u(user: string): SimUserData {
    return this.tenant.user(user);
  }

  // ---- OneDrive ----

  /** Finds an item by its '/'-separated path from the drive root ("" is the root). */
  driveItem(user: string, path: string): SimDriveItem {
    const u = this.u(user);
    let cur = u.drive.get(u.rootId)!;
    for (const name of path.split('/').filter(Boolean)) {
      const next = [...u.drive.values()].find((i) => i.parentId === cur.id && i.name === name);
      if (!next) throw new Error(`simulator: no drive item ${path}`);
      cur = next;
    }
    return cur;
  }

  /** Path of a drive item from the root, for building the expected tree. */
  drivePath(user: string, id: string): string {
    const u = this.u(user);
    const names: string[] = [];
    let cur = u.drive.get(id);
    while (cur && cur.parentId) {
      names.unshift(cur.name);
      cur = u.drive.get(cur.parentId);
    }
    return names.join('/');
  }

  private ensureFolder(user: string, path: string): SimDriveItem {
    const u = this.u(user);
    let cur = u.drive.get(u.rootId)!;
    for (const name of path.split('/').filter(Boolean)) {
      let next = [...u.drive.values()].find((i) => i.parentId === cur.id && i.name === name);
      if (!next) {
        const now = new Date().toISOString();
        next = { id: this.tenant.newId(), name, parentId: cur.id, folder: true, created: now, modified: now, version: this.tenant.stamp(), eTagVersion: 1, cTagVersion: 1 };
        u.drive.set(next.id, next);
      }
      cur = next;
    }
    return cur;
  }

  addFolder(user: string, path: string): SimDriveItem {
    return this.ensureFolder(user, path);
  }

  addFile(user: string, path: string, content: Buffer, modified = new Date().toISOString()): SimDriveItem {
    const parts = path.split('/');
    const name = parts.pop()!;
    const parent = this.ensureFolder(user, parts.join('/'));
    const item: SimDriveItem = { id: this.tenant.newId(), name, parentId: parent.id, folder: false, content, created: modified, modified, version: this.tenant.stamp(), eTagVersion: 1, cTagVersion: 1 };
    this.u(user).drive.set(item.id, item);
    return item;
  }

  modifyFile(user: string, path: string, content: Buffer): SimDriveItem {
    const item = this.driveItem(user, path);
    item.content = content;
    item.modified = new Date().toISOString();
    item.eTagVersion++;
    item.cTagVersion++;
    item.version = this.tenant.stamp();
    return item;
  }

  renameDriveItem(user: string, path: string, newName: string): SimDriveItem {
    const item = this.driveItem(user, path);
    item.name = newName;
    item.eTagVersion++;
    item.version = this.tenant.stamp();
    return item;
  }

  moveDriveItem(user: string, path: string, newParentPath: string): SimDriveItem {
    const item = this.driveItem(user, path);
    item.parentId = this.ensureFolder(user, newParentPath).id;
    item.eTagVersion++;
    item.version = this.tenant.stamp();
    return item;
  }

  /** Deletes an item and, for a folder, everything under it (each gets a tombstone, as OneDrive reports). */
  deleteDriveItem(user: string, path: string): void {
    const u = this.u(user);
    const root = this.driveItem(user, path);
    const doomed = [root.id];
    for (let i = 0; i < doomed.length; i++) for (const c of u.drive.values()) if (c.parentId === doomed[i]) doomed.push(c.id);
    for (const id of doomed.reverse()) {
      u.drive.delete(id);
      this.tenant.tombstone(u, id, 'drive');
    }
  }

  // ---- Mail ----

  mailFolder(user: string, path: string): SimMailFolder {
    const u = this.u(user);
    let parent: string | null = null;
    let found: SimMailFolder | undefined;
    for (const name of path.split('/').filter(Boolean)) {
      found = [...u.mailbox.folders.values()].find((f) => f.parentFolderId === parent && f.displayName === name);
      if (!found) throw new Error(`simulator: no mail folder ${path}`);
      parent = found.id;
    }
    if (!found) throw new Error('simulator: empty mail folder path');
    return found;
  }

  mailFolderPath(user: string, id: string): string {
    const u = this.u(user);
    const names: string[] = [];
    let cur = u.mailbox.folders.get(id);
    while (cur) {
      names.unshift(cur.displayName);
      cur = cur.parentFolderId ? u.mailbox.folders.get(cur.parentFolderId) : undefined;
    }
    return names.join('/');
  }

  addMailFolder(user: string, parentPath: string | null, displayName: string, wellKnownName?: string): SimMailFolder {
    const u = this.u(user);
    const parentFolderId = parentPath ? this.mailFolder(user, parentPath).id : null;
    const f: SimMailFolder = { id: this.tenant.newId(), displayName, parentFolderId, version: this.tenant.stamp(), ...(wellKnownName ? { wellKnownName } : {}) };
    u.mailbox.folders.set(f.id, f);
    return f;
  }

  renameMailFolder(user: string, path: string, displayName: string): SimMailFolder {
    const f = this.mailFolder(user, path);
    f.displayName = displayName;
    f.version = this.tenant.stamp();
    return f;
  }

  /** Deletes a folder with its subfolders and messages; their per-folder deltas answer 404 afterwards. */
  deleteMailFolder(user: string, path: string): void {
    const u = this.u(user);
    const doomed = [this.mailFolder(user, path).id];
    for (let i = 0; i < doomed.length; i++) for (const f of u.mailbox.folders.values()) if (f.parentFolderId === doomed[i]) doomed.push(f.id);
    for (const id of doomed) {
      u.mailbox.folders.delete(id);
      for (const m of [...u.mailbox.messages.values()]) if (m.folderId === id) u.mailbox.messages.delete(m.id);
    }
  }

  addMessage(user: string, folderPath: string, spec: NewMessage): SimMessage {
    const u = this.u(user);
    const folder = this.mailFolder(user, folderPath);
    const id = this.tenant.newId();
    const internetMessageId = `${id}@sim.${this.tenant.domain}`;
    const mime = buildMime({ messageId: internetMessageId, subject: spec.subject, from: spec.from, to: spec.to, date: spec.received, text: spec.text, attachments: spec.attachments });
    const m: SimMessage = {
      id,
      folderId: folder.id,
      mime,
      subject: spec.subject,
      from: spec.from,
      to: spec.to,
      receivedDateTime: spec.received,
      sentDateTime: spec.received,
      isRead: spec.isRead ?? false,
      flagStatus: 'notFlagged',
      categories: spec.categories ?? [],
      hasAttachments: (spec.attachments?.length ?? 0) > 0,
      internetMessageId,
      version: this.tenant.stamp(),
    };
    u.mailbox.messages.set(id, m);
    return m;
  }

  message(user: string, id: string): SimMessage {
    const m = this.u(user).mailbox.messages.get(id);
    if (!m) throw new Error(`simulator: no message ${id}`);
    return m;
  }

  updateMessage(user: string, id: string, change: Partial<Pick<SimMessage, 'isRead' | 'flagStatus' | 'categories'>>): SimMessage {
    const m = this.message(user, id);
    Object.assign(m, change);
    m.version = this.tenant.stamp();
    return m;
  }

  moveMessage(user: string, id: string, folderPath: string): SimMessage {
    const u = this.u(user);
    const m = this.message(user, id);
    this.tenant.tombstone(u, m.id, m.folderId);
    m.folderId = this.mailFolder(user, folderPath).id;
    m.version = this.tenant.stamp();
    return m;
  }

  deleteMessage(user: string, id: string): void {
    const u = this.u(user);
    const m = this.message(user, id);
    u.mailbox.messages.delete(id);
    this.tenant.tombstone(u, id, m.folderId);
  }

  // ---- Calendar ----

  addEvent(user: string, e: Omit<SimEvent, 'id' | 'version'>): SimEvent {
    const ev: SimEvent = { ...e, id: this.tenant.newId(), version: this.tenant.stamp() };
    this.u(user).mailbox.events.set(ev.id, ev);
    return ev;
  }

  updateEvent(user: string, id: string, change: Partial<Omit<SimEvent, 'id' | 'version'>>): SimEvent {
    const ev = this.u(user).mailbox.events.get(id);
    if (!ev) throw new Error(`simulator: no event ${id}`);
    Object.assign(ev, change);
    ev.version = this.tenant.stamp();
    return ev;
  }

  deleteEvent(user: string, id: string): void {
    const u = this.u(user);
    const ev = u.mailbox.events.get(id);
    if (!ev || !u.mailbox.events.delete(id)) throw new Error(`simulator: no event ${id}`);
    this.tenant.tombstone(u, id, `events:${calendarOfEvent(u, ev)}`);
  }

  /** A calendar besides the default one; returns its id. */
  addCalendar(user: string, name: string, color = 'lightBlue'): string {
    const id = `AAMkCal-${this.tenant.newId()}`;
    calendarsOf(this.u(user)).set(id, { id, name, color, isDefaultCalendar: false, version: this.tenant.stamp() });
    return id;
  }

  /** Deletes a (non-default) calendar with every event in it. */
  deleteCalendar(user: string, name: string): void {
    const u = this.u(user);
    const id = this.calendarId(user, name);
    for (const e of [...u.mailbox.events.values()]) if (calendarOfEvent(u, e) === id) this.deleteEvent(user, e.id);
    calendarsOf(u).delete(id);
  }

  /** The calendar of that name (the default one is "Calendar"). */
  calendarId(user: string, name: string): string {
    const c = [...calendarsOf(this.u(user)).values()].find((x) => x.name === name);
    if (!c) throw new Error(`simulator: no calendar ${name}`);
    return c.id;
  }

  private master(user: string, id: string) {
    const ev = this.u(user).mailbox.events.get(id);
    if (!ev?.recurrence) throw new Error(`simulator: no series ${id}`);
    return ev;
  }

  /**
   * Modifies one occurrence of a series (it becomes an exception, or an exception changes again).
   * Exchange keeps exceptions inside the series master, so the master changes too (new changeKey).
   */
  updateOccurrence(user: string, masterId: string, originalStart: string, change: Partial<Omit<SimException, 'id' | 'originalStart'>>): SimException {
    const master = this.master(user, masterId);
    const inst = instancesOf(master).find((i) => i.originalStart === Date.parse(originalStart));
    if (!inst) throw new Error(`simulator: series ${masterId} has no occurrence at ${originalStart}`);
    let x = inst.exception;
    if (!x) {
      x = { id: inst.id, originalStart: new Date(inst.originalStart).toISOString(), subject: master.subject, bodyText: master.bodyText, start: inst.start, end: inst.end, location: master.location };
      (master.exceptions ??= []).push(x);
    }
    Object.assign(x, change);
    master.version = this.tenant.stamp();
    return x;
  }

  /** Cancels (deletes) one occurrence of a series: the master records it and changes. */
  cancelOccurrence(user: string, masterId: string, originalStart: string): void {
    const master = this.master(user, masterId);
    const t = Date.parse(originalStart);
    if (!instancesOf(master).some((i) => i.originalStart === t)) throw new Error(`simulator: series ${masterId} has no occurrence at ${originalStart}`);
    master.exceptions = (master.exceptions ?? []).filter((x) => Date.parse(x.originalStart) !== t);
    (master.cancelled ??= []).push(new Date(t).toISOString());
    master.version = this.tenant.stamp();
  }

  /** Changes a mailbox's configuration (automatic replies, rules, categories). */
  updateMailboxConfig(user: string, change: (c: SimMailboxConfig) => void): void {
    change(configOf(this.u(user)));
  }

  // ---- Contacts ----

  /** A contact folder at the top, or a child folder of `parentId` (Graph's contactFolders/{id}/childFolders). */
  addContactFolder(user: string, displayName: string, parentId: string | null = null): string {
    const folders = this.u(user).mailbox.contactFolders;
    if (parentId !== null && !folders.has(parentId)) throw new Error(`simulator: no contact folder ${parentId}`);
    const id = this.tenant.newId();
    folders.set(id, { id, displayName, parentFolderId: parentId, version: this.tenant.stamp() });
    return id;
  }

  /** A contact folder's path of names ("Clients/Europe"); "" for the default Contacts folder (null). */
  contactFolderPath(user: string, folderId: string | null): string {
    const folders = this.u(user).mailbox.contactFolders;
    const names: string[] = [];
    for (let f = folderId === null ? undefined : folders.get(folderId); f; f = f.parentFolderId === null ? undefined : folders.get(f.parentFolderId)) names.unshift(f.displayName);
    return names.join('/');
  }

  /** Deletes a contact folder with its child folders and every contact in them. */
  deleteContactFolder(user: string, folderId: string): void {
    const u = this.u(user);
    const doomed = [folderId];
    for (let i = 0; i < doomed.length; i++) for (const f of u.mailbox.contactFolders.values()) if (f.parentFolderId === doomed[i]) doomed.push(f.id);
    for (const id of doomed) {
      u.mailbox.contactFolders.delete(id);
      for (const c of [...u.mailbox.contacts.values()]) if (c.folderId === id) u.mailbox.contacts.delete(c.id);
    }
  }

  addContact(user: string, c: Omit<SimContact, 'id' | 'version'>): SimContact {
    const contact: SimContact = { ...c, id: this.tenant.newId(), version: this.tenant.stamp() };
    this.u(user).mailbox.contacts.set(contact.id, contact);
    return contact;
  }

  updateContact(user: string, id: string, change: Partial<Omit<SimContact, 'id' | 'version' | 'folderId'>>): SimContact {
    const c = this.u(user).mailbox.contacts.get(id);
    if (!c) throw new Error(`simulator: no contact ${id}`);
    Object.assign(c, change);
    c.version = this.tenant.stamp();
    return c;
  }

  deleteContact(user: string, id: string): void {
    const u = this.u(user);
    const c = u.mailbox.contacts.get(id);
    if (!c) throw new Error(`simulator: no contact ${id}`);
    u.mailbox.contacts.delete(id);
    this.tenant.tombstone(u, id, contactScope(c.folderId));
  }

  /** Makes the simulator serve this entity's JSON malformed (or stop doing so). */
  corrupt(user: string, id: string, on = true): void {
    const set = this.u(user).corrupt;
    if (on) set.add(id);
    else set.delete(id);
  }
}
