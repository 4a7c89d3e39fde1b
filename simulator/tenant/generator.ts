import { SeededRandom } from '../../shared/local';
import { TenantEditor } from './editor';
import { SimTenant } from './model';

export interface TenantShape {
  users: number;
  /** Files per user; sizes follow a long tail from a few bytes to `maxFileBytes`. */
  filesPerUser: number;
  maxFileBytes: number;
  messagesPerUser: number;
  eventsPerUser: number;
  contactsPerUser: number;
  /** Users (by index) without a mailbox / without a drive, as in real tenants (rooms, unlicensed). */
  withoutMailbox?: number[];
  withoutDrive?: number[];
  /** Size of each user's first file (default 0: an empty file, an edge case worth having). */
  firstFileBytes?: number;
  /** Share of messages with an attachment (default 0.25). */
  attachmentRate?: number;
  /** Shared and room mailboxes (disabled accounts, mailboxSettings.userPurpose) after the users. */
  sharedMailboxes?: number;
  roomMailboxes?: number;
  /** Each mailbox gains a second calendar ("Projects") and a weekly series with one exception and one cancellation. */
  calendarSeries?: boolean;
}

/** The scale benchmark's tenant: `users` users with one small file and a few messages (and one event and contact) each. */
export const scaleTenantShape = (users: number): TenantShape => ({ users, filesPerUser: 1, maxFileBytes: 4096, firstFileBytes: 2048, messagesPerUser: 3, eventsPerUser: 1, contactsPerUser: 1, attachmentRate: 0 });

export const SMALL_TENANT: TenantShape = { users: 5, filesPerUser: 12, maxFileBytes: 3 * 1024 * 1024, messagesPerUser: 20, eventsPerUser: 6, contactsPerUser: 6 };

const FIRST = ['Adele', 'Alex', 'Diego', 'Grady', 'Isaiah', 'Johanna', 'Joni', 'Lee', 'Lidia', 'Lynne', 'Megan', 'Miriam', 'Nestor', 'Patti', 'Pradeep', 'Zoë', 'Émile', 'Sakura', 'Henrietta', 'Christie'];
const LAST = ['Vance', 'Wilber', 'Siciliani', 'Archie', 'Langer', 'Lauer', 'Sherman', 'Gu', 'Holloway', 'Valdez', 'Bowen', 'Hunter', 'Motos', 'Fernandez', 'Gupta', 'Åberg', 'Müller', 'Tanaka', 'Mayer', 'Cline'];
const WORDS = ['budget', 'roadmap', 'quarterly', 'review', 'launch', 'invoice', 'design', 'meeting', 'notes', 'contract', 'offsite', 'hiring', 'security', 'migration', 'report', 'draft', 'Überblick', 'プロジェクト'];
const WELL_KNOWN: [string, string][] = [
  ['Inbox', 'inbox'],
  ['Sent Items', 'sentitems'],
  ['Drafts', 'drafts'],
  ['Deleted Items', 'deleteditems'],
  ['Archive', 'archive'],
];

function pick<T>(r: SeededRandom, list: readonly T[]): T {
  return list[r.int(0, list.length - 1)]!;
}

function phrase(r: SeededRandom, n: number): string {
  return Array.from({ length: n }, () => pick(r, WORDS)).join(' ');
}

/** Bytes of a file: compressible text for documents, random for media, as in real drives. */
function fileBody(r: SeededRandom, size: number, text: boolean): Buffer {
  if (!text) return r.bytes(size);
  const line = Buffer.from(`${phrase(r, 8)}\n`);
  const out = Buffer.alloc(size);
  for (let o = 0; o < size; o += line.length) line.copy(out, o);
  return out;
}

/**
 * A deterministic tenant: the same seed gives the same users, files, messages, events and
 * contacts (ids included), so tests and the demo can say exactly what a restore must contain.
 */
export function generateTenant(options: { seed: number; tenantId: string; domain: string; shape: TenantShape; start?: Date }): { tenant: SimTenant; editor: TenantEditor } {
  const r = new SeededRandom(options.seed);
  const tenant = new SimTenant(options.tenantId, options.domain, `${options.tenantId}/${options.seed}`);
  const editor = new TenantEditor(tenant);
  const shape = options.shape;
  const base = (options.start ?? new Date('2026-06-01T08:00:00Z')).getTime();
  const iso = (offsetMinutes: number) => new Date(base + offsetMinutes * 60_000).toISOString();

  const shared = shape.sharedMailboxes ?? 0;
  const rooms = shape.roomMailboxes ?? 0;
  for (let i = 0; i < shape.users + shared + rooms; i++) {
    const purpose = i < shape.users ? 'user' : i < shape.users + shared ? 'shared' : 'room';
    const first = purpose === 'shared' ? 'Sales' : purpose === 'room' ? 'Room' : FIRST[i % FIRST.length]!;
    const last = purpose === 'user' ? LAST[(i * 7) % LAST.length]! : purpose === 'shared' ? `Team${i - shape.users}` : `Conference${i - shape.users - shared}`;
    const local = `${first}.${last}${purpose === 'user' && i >= FIRST.length ? i : ''}`.normalize('NFD').replace(/[^A-Za-z.0-9]/g, '').toLowerCase();
    const upn = `${local}@${options.domain}`;
    const hasMailbox = purpose !== 'user' || !(shape.withoutMailbox ?? []).includes(i);
    const hasDrive = purpose === 'user' && !(shape.withoutDrive ?? []).includes(i);
    tenant.addUser({ userPrincipalName: upn, displayName: `${first} ${last}`, mail: hasMailbox ? upn : null, hasMailbox, hasDrive, ...(purpose === 'user' ? {} : { purpose, accountEnabled: false }) });
    const me = { name: `${first} ${last}`, address: upn };

    if (hasDrive) {
      const folders = ['', 'Documents', 'Documents/Projects', 'Pictures', 'Shared with team', `Documents/Projects/${pick(r, WORDS)}`];
      for (let f = 0; f < shape.filesPerUser; f++) {
        const tail = r.next();
        const size = f === 0 ? (shape.firstFileBytes ?? 0) : Math.min(shape.maxFileBytes, Math.floor(tail * tail * tail * shape.maxFileBytes) + r.int(1, 4000));
        const text = r.next() < 0.6;
        const name = `${phrase(r, 2)} ${f}.${text ? 'docx' : 'jpg'}`;
        const folder = pick(r, folders);
        editor.addFile(upn, folder ? `${folder}/${name}` : name, fileBody(r, size, text), iso(f));
      }
      editor.addFolder(upn, 'Empty folder');
    }

    if (hasMailbox) {
      for (const [name, wk] of WELL_KNOWN) editor.addMailFolder(upn, null, name, wk);
      editor.addMailFolder(upn, 'Inbox', 'Projects');
      editor.addMailFolder(upn, 'Inbox/Projects', 'Älteres');
      const folderPaths = ['Inbox', 'Inbox', 'Inbox/Projects', 'Inbox/Projects/Älteres', 'Sent Items', 'Archive', 'Drafts'];
      for (let m = 0; m < shape.messagesPerUser; m++) {
        const peer = { name: `${pick(r, FIRST)} ${pick(r, LAST)}`, address: `${pick(r, FIRST).toLowerCase()}@partner.example` };
        const attach = r.next() < (shape.attachmentRate ?? 0.25);
        editor.addMessage(upn, pick(r, folderPaths), {
          subject: `${phrase(r, 3)} #${m}`,
          from: peer,
          to: [me],
          text: `${phrase(r, 30)}\n\n-- \n${peer.name}`,
          received: iso(-m * 37),
          isRead: r.next() < 0.5,
          categories: r.next() < 0.2 ? ['Blue category'] : [],
          ...(attach ? { attachments: [{ name: `${pick(r, WORDS)}.pdf`, contentType: 'application/pdf', data: r.bytes(r.int(2_000, 300_000)) }] } : {}),
        });
      }
      for (let e = 0; e < shape.eventsPerUser; e++) {
        const start = base + (e * 26 - 40) * 3_600_000;
        const allDay = e % 5 === 4;
        const s = allDay ? new Date(Math.floor(start / 86_400_000) * 86_400_000) : new Date(start);
        const end = allDay ? new Date(s.getTime() + 86_400_000) : new Date(start + r.int(1, 4) * 1_800_000);
        editor.addEvent(upn, {
          subject: `${phrase(r, 2)} sync ${e}`,
          bodyText: phrase(r, 12),
          start: s.toISOString(),
          end: end.toISOString(),
          isAllDay: allDay,
          location: r.next() < 0.5 ? `Room ${r.int(1, 40)}` : '',
          organizer: me,
          attendees: [{ name: `${pick(r, FIRST)} ${pick(r, LAST)}`, address: `${pick(r, FIRST).toLowerCase()}@${options.domain}` }],
        });
      }
      if (shape.calendarSeries) {
        const projects = editor.addCalendar(upn, 'Projects');
        const first = new Date(Math.floor(base / 86_400_000) * 86_400_000 + 9 * 3_600_000);
        const series = editor.addEvent(upn, {
          subject: `Weekly ${pick(r, WORDS)} standup`,
          bodyText: phrase(r, 8),
          start: first.toISOString(),
          end: new Date(first.getTime() + 1_800_000).toISOString(),
          isAllDay: false,
          location: 'Room 1',
          organizer: me,
          attendees: [],
          recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: [['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'][first.getUTCDay()]!], firstDayOfWeek: 'sunday' }, range: { type: 'numbered', startDate: first.toISOString().slice(0, 10), numberOfOccurrences: 10, recurrenceTimeZone: 'UTC' } },
        });
        const week = 7 * 86_400_000;
        editor.updateOccurrence(upn, series.id, new Date(first.getTime() + 2 * week).toISOString(), { subject: `${series.subject} (moved)`, start: new Date(first.getTime() + 2 * week + 3_600_000).toISOString(), end: new Date(first.getTime() + 2 * week + 5_400_000).toISOString() });
        editor.cancelOccurrence(upn, series.id, new Date(first.getTime() + 4 * week).toISOString());
        editor.addEvent(upn, { subject: `${phrase(r, 2)} kickoff`, bodyText: phrase(r, 6), start: iso(120), end: iso(180), isAllDay: false, location: '', organizer: me, attendees: [], calendarId: projects });
      }
      const clients = editor.addContactFolder(upn, 'Clients');
      for (let c = 0; c < shape.contactsPerUser; c++) {
        const gn = pick(r, FIRST);
        const sn = pick(r, LAST);
        editor.addContact(upn, {
          folderId: c % 3 === 2 ? clients : null,
          givenName: gn,
          surname: sn,
          displayName: `${gn} ${sn}`,
          emailAddresses: [{ name: `${gn} ${sn}`, address: `${gn}.${sn}${c}@contoso.example`.normalize('NFD').replace(/[^A-Za-z.@0-9]/g, '').toLowerCase() }],
          mobilePhone: r.next() < 0.7 ? `+1 555 01${String(r.int(0, 99)).padStart(2, '0')}` : null,
          businessPhones: r.next() < 0.5 ? [`+1 425 555 ${String(r.int(0, 9999)).padStart(4, '0')}`] : [],
          companyName: r.next() < 0.5 ? 'Fabrikam' : null,
        });
      }
    }
  }
  return { tenant, editor };
}
