import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ical from 'node-ical';
import { eventToIcs } from '../../../shared/restore/m365/ical';
import { eventCreateBody } from '../../../shared/restore/m365/write/calendarWriter';

const dtz = (dateTime: string) => ({ dateTime, timeZone: 'UTC' });
const master = (recurrence: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'M1',
  iCalUId: 'UID-1',
  type: 'seriesMaster',
  subject: 'Standup',
  start: dtz('2026-06-01T09:00:00.0000000'),
  end: dtz('2026-06-01T09:30:00.0000000'),
  recurrence,
  ...extra,
});
const range = (r: Record<string, unknown>) => ({ recurrenceTimeZone: 'UTC', startDate: '2026-06-01', endDate: '0001-01-01', numberOfOccurrences: 0, ...r });
/** The RRULE's parts, sorted (ical.js orders them its own way and leaves out WKST=MO, the default). */
const rruleOf = (ics: string) => /RRULE:([^\r\n]+)/.exec(ics)?.[1]?.split(';').sort().join(';');
const parts = (rule: string) => rule.split(';').sort().join(';');

test('RRULE from every Graph pattern type and range type', () => {
  const weekly = { type: 'weekly', interval: 2, daysOfWeek: ['monday', 'thursday'], firstDayOfWeek: 'sunday', dayOfMonth: 0, month: 0, index: 'first' };
  assert.equal(rruleOf(eventToIcs(master({ pattern: weekly, range: range({ type: 'numbered', numberOfOccurrences: 10 }) }))), parts('FREQ=WEEKLY;BYDAY=MO,TH;INTERVAL=2;WKST=SU;COUNT=10'));
  assert.equal(rruleOf(eventToIcs(master({ pattern: { type: 'daily', interval: 1 }, range: range({ type: 'endDate', endDate: '2026-06-30' }) }))), parts('FREQ=DAILY;UNTIL=20260630T235959Z'));
  assert.equal(rruleOf(eventToIcs(master({ pattern: { type: 'absoluteMonthly', interval: 1, dayOfMonth: 15 }, range: range({ type: 'noEnd' }) }))), parts('FREQ=MONTHLY;BYMONTHDAY=15'));
  assert.equal(rruleOf(eventToIcs(master({ pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['friday'], index: 'last' }, range: range({ type: 'noEnd' }) }))), parts('FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1'));
  assert.equal(rruleOf(eventToIcs(master({ pattern: { type: 'absoluteYearly', interval: 1, month: 6, dayOfMonth: 1 }, range: range({ type: 'noEnd' }) }))), parts('FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=1'));
  assert.equal(rruleOf(eventToIcs({ id: 'S', subject: 'single', type: 'singleInstance', start: dtz('2026-06-01T09:00:00'), end: dtz('2026-06-01T10:00:00'), recurrence: null })), undefined, 'a single event has no RRULE');
});

test('a series with a cancellation and an exception: one master with EXDATE, one override with RECURRENCE-ID; node-ical reads it as one event', () => {
  const ics = eventToIcs(
    master(
      { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'], firstDayOfWeek: 'sunday' }, range: range({ type: 'numbered', numberOfOccurrences: 5 }) },
      {
        cancelledOccurrences: ['OID.M1.2026-06-15'],
        exceptionOccurrences: [{ id: 'X1', type: 'exception', subject: 'Standup (moved)', originalStart: '2026-06-08T09:00:00Z', start: dtz('2026-06-08T11:00:00.0000000'), end: dtz('2026-06-08T11:30:00.0000000') }],
      },
    ),
  );
  assert.match(ics, /EXDATE:20260615T090000Z/);
  assert.match(ics, /RECURRENCE-ID:20260608T090000Z/);
  const parsed = Object.values(ical.sync.parseICS(ics)).filter((x) => x?.type === 'VEVENT') as ical.VEvent[];
  assert.equal(parsed.length, 1);
  const ev = parsed[0]!;
  assert.ok(ev.rrule);
  assert.deepEqual([...new Set(Object.values(ev.exdate ?? {}).map((d) => new Date(d as Date).toISOString()))], ['2026-06-15T09:00:00.000Z']);
  const override = Object.values(ev.recurrences ?? {})[0]!;
  assert.equal(override.summary, 'Standup (moved)');
  assert.equal(new Date(override.start as Date).toISOString(), '2026-06-08T11:00:00.000Z');
});

test('an all-day series: EXDATE and RECURRENCE-ID as dates', () => {
  const ics = eventToIcs(
    master(
      { pattern: { type: 'daily', interval: 1 }, range: range({ type: 'numbered', numberOfOccurrences: 3 }) },
      { isAllDay: true, start: dtz('2026-06-01T00:00:00.0000000'), end: dtz('2026-06-02T00:00:00.0000000'), cancelledOccurrences: ['OID.M1.2026-06-02'], exceptionOccurrences: [{ subject: 'x', isAllDay: true, originalStart: '2026-06-03T00:00:00Z', start: dtz('2026-06-03T00:00:00'), end: dtz('2026-06-04T00:00:00') }] },
    ),
  );
  assert.match(ics, /EXDATE;VALUE=DATE:20260602/);
  assert.match(ics, /RECURRENCE-ID;VALUE=DATE:20260603/);
});

test('the created event: no attendees (no invitation), the attendees listed in the body, the recurrence of a master, the transactionId', () => {
  const stored = {
    ...master({ pattern: { type: 'daily', interval: 1 }, range: range({ type: 'noEnd' }) }),
    id: 'M1',
    changeKey: 'ck',
    body: { contentType: 'html', content: '<p>agenda</p>' },
    attendees: [{ type: 'required', emailAddress: { name: 'Lee Gu', address: 'lee@contoso.example' } }],
    organizer: { emailAddress: { address: 'me@contoso.example' } },
  };
  const b = eventCreateBody(stored, 'tx-1');
  assert.equal(b.attendees, undefined);
  assert.equal(b.id, undefined);
  assert.equal(b.organizer, undefined);
  assert.equal(b.transactionId, 'tx-1');
  assert.deepEqual(b.recurrence, stored.recurrence);
  assert.match(String((b.body as { content: string }).content), /^<p>agenda<\/p><p>Attendees at the time of the backup \(not invited by the restore\):<br>Lee Gu &lt;lee@contoso.example&gt; \(required\)<\/p>$/);
  const single = eventCreateBody({ subject: 's', type: 'singleInstance', body: { contentType: 'text', content: '' }, attendees: [] });
  assert.deepEqual(single.body, { contentType: 'text', content: '' });
  assert.equal(single.recurrence, undefined);
});
