import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import { calendarOfEvent, calendarsOf, instancesOf } from '../simulator/tenant/calendars';
import type { SimEvent, SimUserData } from '../simulator/tenant/model';

const SHAPE = { users: 2, filesPerUser: 1, maxFileBytes: 4096, messagesPerUser: 2, eventsPerUser: 3, contactsPerUser: 1, calendarSeries: true };
const READ_AND_CALENDAR_WRITE = ['Files.Read.All', 'Mail.Read', 'Calendars.Read', 'Contacts.Read', 'User.Read.All', 'Calendars.ReadWrite'];

/** What a calendar holds, comparable across ids: per calendar name, each event's subject, start, end, body and series shape. */
function calendarState(u: SimUserData): string[] {
  const out: string[] = [];
  const cals = calendarsOf(u);
  for (const e of u.mailbox.events.values()) {
    const cal = cals.get(calendarOfEvent(u, e))!.name;
    const series = e.recurrence ? instancesOf(e).map((i) => `${i.kind}:${i.start}:${i.exception?.subject ?? ''}`).join(',') : '';
    out.push(`${cal}|${e.subject}|${e.start}|${e.end}|${e.location}|${series}`);
  }
  return out.sort();
}

describe('calendar writer: in-place restore into Microsoft 365 (series as one series, no invitation, never a duplicate)', () => {
  let suite: M365Suite;
  let t: SuiteTenant;
  let upn: string;
  let before1: string[];
  let deletedSingle: SimEvent;

  before(async () => {
    suite = await startM365Suite([{ name: 'calw', seed: 9, shape: SHAPE }]);
    t = suite.tenants.get('calw')!;
    for (const app of t.tenant.apps) app.roles = READ_AND_CALENDAR_WRITE;
    assert.equal((await suite.addTenant('calw')).code, 0);
    upn = [...t.tenant.users.values()][0]!.user.userPrincipalName;
    const b = await suite.cli(['backup', '--tenant', 'calw'], t.password);
    assert.equal(b.code, 0, b.stderr);
  });
  after(async () => suite?.stop());

  test('a deleted series, a deleted single event with an attendee and a deleted calendar come back: one series with its exception and cancellation, the calendar recreated, no invitation sent', async () => {
    const u = t.tenant.user(upn);
    before1 = calendarState(u);
    const series = [...u.mailbox.events.values()].find((e) => e.recurrence)!;
    deletedSingle = [...u.mailbox.events.values()].find((e) => !e.recurrence && e.attendees.length > 0 && !e.calendarId)!;
    t.editor.deleteEvent(upn, series.id);
    t.editor.deleteEvent(upn, deletedSingle.id);
    t.editor.deleteCalendar(upn, 'Projects');
    assert.notDeepEqual(calendarState(u), before1);

    const r = await suite.cli(['restore', '--tenant', 'calw', '--user', upn, '--service', 'calendar', '--in-place'], t.password);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /3 restored/, r.stdout);
    assert.deepEqual(calendarState(u), before1, 'every calendar and event is back, the series with its exception and cancellation');
    const masters = [...u.mailbox.events.values()].filter((e) => e.recurrence);
    assert.equal(masters.length, 1, 'the series is one series');
    assert.equal(masters[0]!.exceptions?.length, 1);
    assert.equal(masters[0]!.cancelled?.length, 1);
    assert.equal((u.mailbox.invitations ?? []).length, 0, 'no invitation was sent');
    const back = [...u.mailbox.events.values()].find((e) => e.subject === deletedSingle.subject && e.start === deletedSingle.start)!;
    assert.deepEqual(back.attendees, [], 'attendees are kept out of the created event');
    assert.ok(back.bodyText.includes(deletedSingle.attendees[0]!.address), 'and listed in its body');
  });

  test('the same restore run again adds nothing (restore map, original ids, transactionId)', async () => {
    const u = t.tenant.user(upn);
    const count = u.mailbox.events.size;
    const r = await suite.cli(['restore', '--tenant', 'calw', '--user', upn, '--service', 'calendar', '--in-place'], t.password);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /0 restored/, r.stdout);
    assert.equal(u.mailbox.events.size, count);
    assert.deepEqual(calendarState(u), before1);
    assert.equal((u.mailbox.invitations ?? []).length, 0);
  });

  test('a crash between an event\'s POST and its restore-map record (emulated: the map wiped) -> the rerun gets the same events back through transactionId: no duplicate, no invitation', async () => {
    const tables = (await suite.storage.tables.listTables()).filter((n) => n.endsWith('restoresmap'));
    assert.ok(tables.length > 0, 'the restore map table exists');
    let wiped = 0;
    for (const table of tables)
      for await (const row of suite.storage.tables.query(table)) {
        await suite.storage.tables.delete(table, row.partitionKey, row.rowKey);
        wiped++;
      }
    assert.ok(wiped > 0);
    const u = t.tenant.user(upn);
    const count = u.mailbox.events.size;
    suite.sim.resetStats();
    const r = await suite.cli(['restore', '--tenant', 'calw', '--user', upn, '--service', 'calendar', '--in-place'], t.password);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.ok((suite.sim.stats.requests.get('calendar.createEvent') ?? 0) >= 3, 'the three restored events were POSTed again');
    assert.equal(u.mailbox.events.size, count, 'and Graph answered with the events already created');
    assert.deepEqual(calendarState(u), before1, 'the series keeps exactly its exception and cancellation');
    assert.equal((u.mailbox.invitations ?? []).length, 0);
  });

  test('--to-user: the events land in one new calendar named for the source and date; the series is one series there', async () => {
    const other = [...t.tenant.users.values()][1]!;
    const sizeBefore = other.mailbox.events.size;
    const r = await suite.cli(['restore', '--tenant', 'calw', '--user', upn, '--service', 'calendar', '--to-user', other.user.userPrincipalName], t.password);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const created = [...calendarsOf(other).values()].find((c) => c.name.startsWith('Restored from'));
    assert.ok(created, `a new calendar: ${[...calendarsOf(other).values()].map((c) => c.name).join(', ')}`);
    const inIt = [...other.mailbox.events.values()].filter((e) => e.calendarId === created.id);
    assert.equal(inIt.length, t.tenant.user(upn).mailbox.events.size);
    assert.equal(inIt.filter((e) => e.recurrence).length, 1);
    assert.equal(other.mailbox.events.size, sizeBefore + inIt.length);
    assert.equal((other.mailbox.invitations ?? []).length, 0);
  });

  test('without Calendars.ReadWrite: one sentence naming the role, nothing written', async () => {
    for (const app of t.tenant.apps) app.roles = undefined;
    const u = t.tenant.user(upn);
    const count = u.mailbox.events.size;
    const r = await suite.cli(['restore', '--tenant', 'calw', '--user', upn, '--service', 'calendar', '--in-place'], t.password);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Calendars\.ReadWrite/);
    assert.equal(u.mailbox.events.size, count);
  });
});
