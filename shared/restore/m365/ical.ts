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

/** One VEVENT's common properties from a Graph event (a single instance, a master or an exception). */
function vevent(event: Json, uid: string): ICALModule.Component {
  const ev = new ICAL.Component('vevent');
  const allDay = event.isAllDay === true;
  ev.updatePropertyWithValue('uid', uid);
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
  return ev;
}

const BYDAY: Record<string, string> = { sunday: 'SU', monday: 'MO', tuesday: 'TU', wednesday: 'WE', thursday: 'TH', friday: 'FR', saturday: 'SA' };
const INDEX: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, last: -1 };

/** Graph patternedRecurrence -> RFC 5545 RRULE (undefined for a pattern Graph does not define). */
export function recurrenceToRrule(recurrence: Json, allDay: boolean): ICALModule.Recur | undefined {
  const pattern = obj(recurrence.pattern);
  const range = obj(recurrence.range);
  const interval = typeof pattern.interval === 'number' && pattern.interval > 0 ? pattern.interval : 1;
  const days = (Array.isArray(pattern.daysOfWeek) ? pattern.daysOfWeek : []).map((d) => BYDAY[str(d).toLowerCase()]).filter((d): d is string => !!d);
  const data: Record<string, unknown> = { interval };
  const type = str(pattern.type);
  if (type === 'daily') data.freq = 'DAILY';
  else if (type === 'weekly') Object.assign(data, { freq: 'WEEKLY', ...(days.length ? { byday: days } : {}), wkst: BYDAY[str(pattern.firstDayOfWeek).toLowerCase()] === 'SU' ? 1 : 2 });
  else if (type === 'absoluteMonthly') Object.assign(data, { freq: 'MONTHLY', bymonthday: [Number(pattern.dayOfMonth)] });
  else if (type === 'relativeMonthly') Object.assign(data, { freq: 'MONTHLY', byday: days, bysetpos: [INDEX[str(pattern.index)] ?? 1] });
  else if (type === 'absoluteYearly') Object.assign(data, { freq: 'YEARLY', bymonth: [Number(pattern.month)], bymonthday: [Number(pattern.dayOfMonth)] });
  else if (type === 'relativeYearly') Object.assign(data, { freq: 'YEARLY', bymonth: [Number(pattern.month)], byday: days, bysetpos: [INDEX[str(pattern.index)] ?? 1] });
  else return undefined;
  if (str(range.type) === 'numbered' && Number(range.numberOfOccurrences) > 0) data.count = Number(range.numberOfOccurrences);
  else if (str(range.type) === 'endDate' && /^\d{4}-\d\d-\d\d$/.test(str(range.endDate))) {
    const [y, m, d] = str(range.endDate).split('-').map(Number) as [number, number, number];
    // The range ends with its end date (inclusive): UNTIL is that day's last second (a date for all-day series).
    data.until = allDay ? ICAL.Time.fromData({ year: y, month: m, day: d, isDate: true }) : ICAL.Time.fromData({ year: y, month: m, day: d, hour: 23, minute: 59, second: 59, timezone: 'Z' });
  }
  return ICAL.Recur.fromData(data as Parameters<typeof ICAL.Recur.fromData>[0]);
}

/** The original start of a cancelled occurrence: "OID.{masterId}.{yyyy-mm-dd}" on the master's time of day. */
function cancelledStart(occurrenceId: string, masterStart: ICALModule.Time, allDay: boolean): ICALModule.Time | undefined {
  const m = /\.(\d{4})-(\d\d)-(\d\d)$/.exec(occurrenceId);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (allDay) return ICAL.Time.fromData({ year, month, day, isDate: true });
  return ICAL.Time.fromData({ year, month, day, hour: masterStart.hour, minute: masterStart.minute, second: masterStart.second, timezone: 'Z' });
}

/**
 * An RFC 5545 calendar from a Graph event. A series master (stored with its exceptionOccurrences
 * and cancelledOccurrences) becomes one VEVENT with RRULE and EXDATE per cancelled occurrence, plus
 * one VEVENT per exception with the same UID and a RECURRENCE-ID naming the occurrence it replaces.
 */
export function eventToIcs(event: Json): string {
  const cal = new ICAL.Component(['vcalendar', [], []]);
  cal.updatePropertyWithValue('prodid', '-//m365-backup//restore//EN');
  cal.updatePropertyWithValue('version', '2.0');
  const uid = str(event.iCalUId) || str(event.id);
  const allDay = event.isAllDay === true;
  const master = vevent(event, uid);
  cal.addSubcomponent(master);
  const recurrence = obj(event.recurrence);
  const rrule = event.type === 'seriesMaster' || Object.keys(recurrence).length > 0 ? recurrenceToRrule(recurrence, allDay) : undefined;
  if (rrule) {
    master.addPropertyWithValue('rrule', rrule);
    const start = graphTime(event.start, allDay);
    for (const c of Array.isArray(event.cancelledOccurrences) ? event.cancelledOccurrences : []) {
      const t = cancelledStart(str(c), start, allDay);
      if (t) master.addPropertyWithValue('exdate', t);
    }
    for (const x of Array.isArray(event.exceptionOccurrences) ? event.exceptionOccurrences : []) {
      const ex = vevent(obj(x), uid);
      const original = str(obj(x).originalStart);
      const rid = original ? (allDay ? graphTime({ dateTime: original, timeZone: 'UTC' }, true) : ICAL.Time.fromJSDate(new Date(original), true)) : undefined;
      if (rid) ex.updatePropertyWithValue('recurrence-id', rid);
      cal.addSubcomponent(ex);
    }
  }
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
