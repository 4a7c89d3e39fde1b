/**
 * The state of a simulated Microsoft 365 tenant: users, OneDrive items, mail folders and messages,
 * calendar events, contact folders and contacts. Every change stamps the entity with the next value
 * of one tenant-wide counter; a delta token is simply a counter value, so "what changed since the
 * token" is every entity (or tombstone) stamped later. Tombstones remember where an entity was
 * removed from (a message moved out of a folder is a removal in that folder's delta).
 */
import { createHash } from 'node:crypto';
import type { SimCalendar, SimException, SimInvitation, SimRecurrence } from './calendars';
import type { SimMailboxConfig } from './mailboxConfig';

export interface SimUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  hasMailbox: boolean;
  hasDrive: boolean;
  /** mailboxSettings.userPurpose (absent: "user"); shared and room mailboxes have a disabled account. */
  purpose?: 'user' | 'shared' | 'room';
  accountEnabled?: boolean;
}

export interface Stamped {
  id: string;
  version: number;
}

export interface SimDriveItem extends Stamped {
  name: string;
  parentId: string | null;
  folder: boolean;
  content?: Buffer;
  created: string;
  modified: string;
  eTagVersion: number;
  cTagVersion: number;
}

export interface SimMailFolder extends Stamped {
  displayName: string;
  parentFolderId: string | null;
  wellKnownName?: string;
}

export interface SimMessage extends Stamped {
  folderId: string;
  mime: Buffer;
  subject: string;
  from: { name: string; address: string };
  to: { name: string; address: string }[];
  receivedDateTime: string;
  sentDateTime: string;
  isRead: boolean;
  flagStatus: 'notFlagged' | 'flagged' | 'complete';
  categories: string[];
  hasAttachments: boolean;
  internetMessageId: string;
  /** Created through POST .../messages without PidTagMessageFlags (restore writes): a draft, as Graph makes it. */
  isDraft?: boolean;
}

export interface SimEvent extends Stamped {
  subject: string;
  bodyText: string;
  start: string;
  end: string;
  isAllDay: boolean;
  location: string;
  attendees: { name: string; address: string }[];
  organizer: { name: string; address: string };
  /** The calendar it is in (absent: the default calendar). */
  calendarId?: string;
  /** Set on a series master; its occurrences are computed (calendars.ts). */
  recurrence?: SimRecurrence;
  exceptions?: SimException[];
  /** Original starts (ISO) of cancelled occurrences. */
  cancelled?: string[];
  /** The client's transactionId of the POST that created it (a retried POST returns this event). */
  transactionId?: string;
}

export interface SimContactFolder extends Stamped {
  displayName: string;
  /** The contact folder it is a child folder of; null: a top folder (in the default Contacts folder). */
  parentFolderId: string | null;
}

export interface SimContact extends Stamped {
  /** null: the default Contacts folder. */
  folderId: string | null;
  givenName: string;
  surname: string;
  displayName: string;
  emailAddresses: { name: string; address: string }[];
  mobilePhone: string | null;
  businessPhones: string[];
  companyName: string | null;
}

export interface Tombstone {
  id: string;
  /** The collection it left: a folder id, "drive", "events", or "contacts:<folder|default>". */
  scope: string;
  version: number;
}

export interface Mailbox {
  folders: Map<string, SimMailFolder>;
  messages: Map<string, SimMessage>;
  events: Map<string, SimEvent>;
  contactFolders: Map<string, SimContactFolder>;
  contacts: Map<string, SimContact>;
  /** Calendars besides the default one (calendars.ts creates the default on first use). */
  calendars?: Map<string, SimCalendar>;
  /** Invitations sent for events created or updated with attendees (a restore must send none). */
  invitations?: SimInvitation[];
  /** mailboxSettings, inbox rules, master categories (mailboxConfig.ts gives the defaults). */
  config?: SimMailboxConfig;
}

export interface SimUserData {
  user: SimUser;
  drive: Map<string, SimDriveItem>;
  driveId: string;
  rootId: string;
  mailbox: Mailbox;
  tombstones: Tombstone[];
  /** Entities whose JSON the simulator serves malformed (fault injection of one item). */
  corrupt: Set<string>;
}

export interface SimAppRegistration {
  clientId: string;
  clientSecret?: string;
  /** PEM of the certificate whose key signs client assertions. */
  certificatePem?: string;
  /** Application permissions granted with admin consent (the token's `roles`); default: the backup's read roles. */
  roles?: string[];
}

export const contactScope = (folderId: string | null) => `contacts:${folderId ?? 'default'}`;

/** A tenant: its directory, its app registrations and every user's data. */
export class SimTenant {
  readonly users = new Map<string, SimUserData>();
  readonly apps: SimAppRegistration[] = [];
  private counter = 0;
  private ids = 0;

  constructor(
    readonly tenantId: string,
    readonly domain: string,
    private readonly seed = tenantId,
  ) {}

  /** A deterministic GUID-shaped id (same seed, same sequence of ids). */
  newId(): string {
    const h = createHash('sha256').update(`${this.seed}/${++this.ids}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** The current value of the change counter (what a delta link issued now carries). */
  get version(): number {
    return this.counter;
  }
  stamp(): number {
    return ++this.counter;
  }

  addUser(u: Omit<SimUser, 'id'> & { id?: string }): SimUserData {
    const user: SimUser = { ...u, id: u.id ?? this.newId() };
    const rootId = `root-${user.id.slice(0, 8)}`;
    const now = new Date(0).toISOString();
    const data: SimUserData = {
      user,
      drive: new Map(),
      driveId: `b!${createHash('sha256').update(user.id).digest('base64url').slice(0, 20)}`,
      rootId,
      mailbox: { folders: new Map(), messages: new Map(), events: new Map(), contactFolders: new Map(), contacts: new Map() },
      tombstones: [],
      corrupt: new Set(),
    };
    data.drive.set(rootId, { id: rootId, name: 'root', parentId: null, folder: true, created: now, modified: now, version: this.stamp(), eTagVersion: 1, cTagVersion: 1 });
    this.users.set(user.id, data);
    return data;
  }

  user(idOrUpn: string): SimUserData {
    const direct = this.users.get(idOrUpn);
    if (direct) return direct;
    for (const u of this.users.values()) if (u.user.userPrincipalName.toLowerCase() === idOrUpn.toLowerCase()) return u;
    throw new Error(`simulator: no user ${idOrUpn}`);
  }

  tombstone(u: SimUserData, id: string, scope: string): void {
    u.tombstones.push({ id, scope, version: this.stamp() });
  }
}
