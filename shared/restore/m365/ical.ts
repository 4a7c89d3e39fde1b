import type ICALModule from 'ical.js' with { 'resolution-mode': 'import' };
// ical.js ships a CommonJS build beside its ES module; its typings describe the ES module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ICAL = require('ical.js') as typeof ICALModule;

type Json = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});

/** Graph dateTimeTimeZone (UTC from the backup's calendarView) -> ICAL.Time. */
function graphTime(v: unknown, allDay: boolean): ICALModule.Time {
  const d = obj(v);
  const zone = str(d.timeZone);
  let iso = str(d.dateTime);
  if (!/[zZ]|[+-]\d\d:\d\d$/.test(iso) && (zone === 'UTC' || zone === '')) iso += 'Z';
  const date = new Date(iso);
  if (allDay) return ICAL.Time.fromData({ year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), isDate: true });
  const t = ICAL.Time.fromJSDate(date, true);
  return t;
}

/** An RFC 5545 calendar with one VEVENT from a Graph event. */
export function eventToIcs(event: Json): string {
  const cal = new ICAL.Component(['vcalendar', [], []]);
  cal.updatePropertyWithValue('prodid', '-//m365-backup//restore//EN');
  cal.updatePropertyWithValue('version', '2.0');
  const ev = new ICAL.Component('vevent');
  const allDay = event.isAllDay === true;
  ev.updatePropertyWithValue('uid', str(event.iCalUId) || str(event.id));
  ev.updatePropertyWithValue('dtstamp', ICAL.Time.fromJSDate(new Date(str(event.lastModifiedDateTime) || Date.now()), true));
  ev.updatePropertyWithValue('summary', str(event.subject));
  ev.updatePropertyWithValue('dtstart', graphTime(event.start, allDay));
  ev.updatePropertyWithValue('dtend', graphTime(event.end, allDay));
  const location = str(obj(event.location).displayName);
  if (location) ev.updatePropertyWithValue('location', location);
  const body = obj(event.body);
  const text = str(body.contentType).toLowerCase() === 'html' ? str(body.content).replace(/<[^>]*>/g, '') : str(body.content);
  if (text) ev.updatePropertyWithValue('description', text);
  const organizer = obj(obj(event.organizer).emailAddress);
  if (organizer.address) {
    const p = ev.addPropertyWithValue('organizer', `mailto:${str(organizer.address)}`);
    if (organizer.name) p.setParameter('cn', str(organizer.name));
  }
  for (const a of Array.isArray(event.attendees) ? event.attendees : []) {
    const email = obj(obj(a).emailAddress);
    if (!email.address) continue;
    const p = ev.addPropertyWithValue('attendee', `mailto:${str(email.address)}`);
    if (email.name) p.setParameter('cn', str(email.name));
    p.setParameter('role', obj(a).type === 'optional' ? 'OPT-PARTICIPANT' : 'REQ-PARTICIPANT');
  }
  cal.addSubcomponent(ev);
  return cal.toString() + '\r\n';
}

/** An RFC 6350 (vCard 4.0) card from a Graph contact. */
export function contactToVcf(contact: Json): string {
  const card = new ICAL.Component(['vcard', [], []]);
  card.updatePropertyWithValue('version', '4.0');
  card.updatePropertyWithValue('uid', `urn:uuid:${str(contact.id)}`);
  const fn = str(contact.displayName) || [str(contact.givenName), str(contact.surname)].filter(Boolean).join(' ');
  card.updatePropertyWithValue('fn', fn);
  const n = new ICAL.Property('n');
  n.setValue([str(contact.surname), str(contact.givenName), str(contact.middleName), str(contact.title), ''] as unknown as string);
  card.addProperty(n);
  for (const e of Array.isArray(contact.emailAddresses) ? contact.emailAddresses : []) {
    const address = str(obj(e).address);
    if (address) card.addPropertyWithValue('email', address);
  }
  const tel = (number: string, type: string) => {
    const p = card.addPropertyWithValue('tel', number);
    p.setParameter('type', type);
  };
  if (str(contact.mobilePhone)) tel(str(contact.mobilePhone), 'cell');
  for (const p of Array.isArray(contact.businessPhones) ? contact.businessPhones : []) if (str(p)) tel(str(p), 'work');
  for (const p of Array.isArray(contact.homePhones) ? contact.homePhones : []) if (str(p)) tel(str(p), 'home');
  if (str(contact.companyName)) card.updatePropertyWithValue('org', str(contact.companyName));
  if (str(contact.jobTitle)) card.updatePropertyWithValue('title', str(contact.jobTitle));
  return card.toString() + '\r\n';
}
