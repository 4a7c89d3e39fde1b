/**
 * The tenant-level scopes of a simulated tenant: SharePoint sites (document libraries and lists),
 * Microsoft 365 groups (conversations) and teams (channels and messages). Kept beside the tenant
 * (a WeakMap, so SimTenant stays as it is); stamped with the tenant's one change counter, so delta
 * tokens work exactly as for users' data.
 */
import { createHash } from 'node:crypto';
import type { SimDriveItem, SimTenant, SimUserData, Stamped, Tombstone } from './model';
import type { SimGroup } from './groups';
import type { SimTeam } from './teams';

/** A document library: a drive, shaped like a user's drive data (user.id = the drive id, user.displayName = the library's name). */
export type SimLibrary = SimUserData;

export interface SimListItem extends Stamped {
  fields: Record<string, unknown>;
  created: string;
  modified: string;
  eTagVersion: number;
}

export interface SimList extends Stamped {
  displayName: string;
  created: string;
  modified: string;
  items: Map<string, SimListItem>;
  tombstones: Tombstone[];
}

export interface SimSite {
  id: string;
  name: string;
  displayName: string;
  webUrl: string;
  created: string;
  libraries: SimLibrary[];
  lists: Map<string, SimList>;
  /** The app may not read it: every route under the site answers 403. */
  denied: boolean;
  groupId?: string;
}

export interface TenantScopes {
  sites: Map<string, SimSite>;
  groups: Map<string, SimGroup>;
  teams: Map<string, SimTeam>;
  /** Sharing permissions of drive items (OneDrive and libraries), by item id, as Graph's permission JSON. */
  permissions: Map<string, Record<string, unknown>[]>;
}

const scopes = new WeakMap<SimTenant, TenantScopes>();

export function scopesOf(t: SimTenant): TenantScopes {
  let s = scopes.get(t);
  if (!s) scopes.set(t, (s = { sites: new Map(), groups: new Map(), teams: new Map(), permissions: new Map() }));
  return s;
}

const hostOf = (t: SimTenant) => `${t.domain.split('.')[0]}.sharepoint.com`;

/** Sites, libraries and lists: what tests and the demo do to them between backups. */
export class SiteEditor {
  constructor(readonly tenant: SimTenant) {}

  addSite(o: { name: string; displayName: string; denied?: boolean; groupId?: string }): SimSite {
    const t = this.tenant;
    const site: SimSite = {
      id: `${hostOf(t)},${t.newId()},${t.newId()}`,
      name: o.name,
      displayName: o.displayName,
      webUrl: `https://${hostOf(t)}/sites/${o.name}`,
      created: new Date(0).toISOString(),
      libraries: [],
      lists: new Map(),
      denied: o.denied ?? false,
      groupId: o.groupId,
    };
    scopesOf(t).sites.set(site.id, site);
    this.addLibrary(site, 'Documents');
    return site;
  }

  site(idOrName: string): SimSite {
    for (const s of scopesOf(this.tenant).sites.values()) if (s.id === idOrName || s.name === idOrName || s.displayName === idOrName) return s;
    throw new Error(`simulator: no site ${idOrName}`);
  }

  addLibrary(site: SimSite, name: string): SimLibrary {
    const t = this.tenant;
    const seed = t.newId();
    const driveId = `b!${createHash('sha256').update(seed).digest('base64url').slice(0, 30)}`;
    const rootId = `root-${seed.slice(0, 8)}`;
    const now = new Date(0).toISOString();
    const lib: SimLibrary = {
      user: { id: driveId, userPrincipalName: `${site.name}/${name}`, displayName: name, mail: null, hasMailbox: false, hasDrive: true },
      drive: new Map(),
      driveId,
      rootId,
      mailbox: { folders: new Map(), messages: new Map(), events: new Map(), contactFolders: new Map(), contacts: new Map() },
      tombstones: [],
      corrupt: new Set(),
    };
    lib.drive.set(rootId, { id: rootId, name: 'root', parentId: null, folder: true, created: now, modified: now, version: t.stamp(), eTagVersion: 1, cTagVersion: 1 });
    site.libraries.push(lib);
    return lib;
  }

  /** A library deleted with everything in it (a restore recreates it). */
  deleteLibrary(site: SimSite, name: string): void {
    site.libraries = site.libraries.filter((l) => l.user.displayName !== name);
  }

  library(site: SimSite, name = 'Documents'): SimLibrary {
    const l = site.libraries.find((x) => x.user.displayName === name);
    if (!l) throw new Error(`simulator: no library ${name} in ${site.name}`);
    return l;
  }

  private folder(lib: SimLibrary, path: string, create: boolean): SimDriveItem {
    let cur = lib.drive.get(lib.rootId)!;
    for (const name of path.split('/').filter(Boolean)) {
      let next = [...lib.drive.values()].find((i) => i.parentId === cur.id && i.name === name);
      if (!next) {
        if (!create) throw new Error(`simulator: no library item ${path}`);
        const now = new Date().toISOString();
        next = { id: this.tenant.newId(), name, parentId: cur.id, folder: true, created: now, modified: now, version: this.tenant.stamp(), eTagVersion: 1, cTagVersion: 1 };
        lib.drive.set(next.id, next);
      }
      cur = next;
    }
    return cur;
  }

  item(lib: SimLibrary, path: string): SimDriveItem {
    return this.folder(lib, path, false);
  }

  addFile(lib: SimLibrary, path: string, content: Buffer, modified = new Date().toISOString()): SimDriveItem {
    const parts = path.split('/');
    const name = parts.pop()!;
    const parent = this.folder(lib, parts.join('/'), true);
    const item: SimDriveItem = { id: this.tenant.newId(), name, parentId: parent.id, folder: false, content, created: modified, modified, version: this.tenant.stamp(), eTagVersion: 1, cTagVersion: 1 };
    lib.drive.set(item.id, item);
    return item;
  }

  modifyFile(lib: SimLibrary, path: string, content: Buffer): SimDriveItem {
    const item = this.item(lib, path);
    item.content = content;
    item.modified = new Date().toISOString();
    item.eTagVersion++;
    item.cTagVersion++;
    item.version = this.tenant.stamp();
    return item;
  }

  deleteItem(lib: SimLibrary, path: string): void {
    const root = this.item(lib, path);
    const doomed = [root.id];
    for (let i = 0; i < doomed.length; i++) for (const c of lib.drive.values()) if (c.parentId === doomed[i]) doomed.push(c.id);
    for (const id of doomed.reverse()) {
      lib.drive.delete(id);
      this.tenant.tombstone(lib, id, 'drive');
    }
  }

  /** Shares a drive item: a sharing link (view or edit) or a direct grant to a user, as /permissions lists them. */
  share(itemId: string, o: { link?: 'view' | 'edit'; user?: { displayName: string; email: string }; roles?: string[] }): Record<string, unknown> {
    const p: Record<string, unknown> = { id: this.tenant.newId(), roles: o.roles ?? [o.link === 'edit' ? 'write' : 'read'] };
    if (o.link) p.link = { type: o.link, scope: 'organization', webUrl: `https://${hostOf(this.tenant)}/:f:/s/${p.id as string}` };
    if (o.user) p.grantedToV2 = { user: { displayName: o.user.displayName, email: o.user.email } };
    const list = scopesOf(this.tenant).permissions.get(itemId) ?? [];
    list.push(p);
    scopesOf(this.tenant).permissions.set(itemId, list);
    return p;
  }

  addList(site: SimSite, displayName: string): SimList {
    const now = new Date().toISOString();
    const list: SimList = { id: this.tenant.newId(), displayName, created: now, modified: now, version: this.tenant.stamp(), items: new Map(), tombstones: [] };
    site.lists.set(list.id, list);
    return list;
  }

  list(site: SimSite, displayName: string): SimList {
    const l = [...site.lists.values()].find((x) => x.displayName === displayName);
    if (!l) throw new Error(`simulator: no list ${displayName}`);
    return l;
  }

  addListItem(list: SimList, fields: Record<string, unknown>): SimListItem {
    const now = new Date().toISOString();
    const id = String(list.items.size + list.tombstones.length + 1);
    const item: SimListItem = { id, fields: { ...fields }, created: now, modified: now, version: this.tenant.stamp(), eTagVersion: 1 };
    list.items.set(id, item);
    this.touch(list);
    return item;
  }

  updateListItem(list: SimList, id: string, fields: Record<string, unknown>): SimListItem {
    const item = list.items.get(id);
    if (!item) throw new Error(`simulator: no list item ${id}`);
    Object.assign(item.fields, fields);
    item.modified = new Date().toISOString();
    item.eTagVersion++;
    item.version = this.tenant.stamp();
    this.touch(list);
    return item;
  }

  deleteListItem(list: SimList, id: string): void {
    list.items.delete(id);
    list.tombstones.push({ id, scope: list.id, version: this.tenant.stamp() });
    this.touch(list);
  }

  private touch(list: SimList): void {
    list.modified = new Date().toISOString();
    list.version = this.tenant.stamp();
  }
}
