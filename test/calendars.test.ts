import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type ICALModule from 'ical.js' with { 'resolution-mode': 'import' };
import { assertRestoreMatches, snapshotExpectation, startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import type { TenantBackupReport } from '../shared/backup/m365/tenantBackup';
import { calendarsOf } from '../simulator/tenant/calendars';
import type { SimEvent } from '../simulator/tenant/model';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ICAL = require('ical.js') as typeof ICALModule;

/** Two users and one shared mailbox; every mailbox has two calendars, a weekly series (one exception, one cancellation) and single events. */
const SHAPE = { users: 2, filesPerUser: 1, maxFileBytes: 4096, messagesPerUser: 4, eventsPerUser: 3, contactsPerUser: 1, sharedMailboxes: 1, calendarSeries: true };
const WEEK = 7 * 86_400_000;

const report = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as TenantBackupReport;

function walk(root: string, dir = root, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(root, full, out);
    else out.push(full.slice(root.length + 1));
  }
  return out;
}

/** The VEVENTs of a restored .ics file. */
const vevents = (path: string) => new ICAL.Component(ICAL.parse(readFileSync(path, 'utf8'))).getAllSubcomponents('vevent');

describe('calendars: every calendar, series as series, shared mailboxes, mailbox configuration', () => {
  let suite: M365Suite;
  let t: SuiteTenant;
  let firstDone = '';
  let expectedFirst: ReturnType<typeof snapshotExpectation>;
  const upnOf = (i: number) => [...t.tenant.users.values()][i]!.user.userPrincipalName;
  const seriesOf = (upn: string): SimEvent => [...t.tenant.user(upn).mailbox.events.values()].find((e) => e.recurrence)!;

  before(async () => {
    suite = await startM365Suite([{ name: 'calco', seed: 5, shape: SHAPE }]);
    t = suite.tenants.get('calco')!;
    assert.equal((await suite.addTenant('calco')).code, 0);
  });
  after(async () => suite?.stop());

  test('a full backup reads every calendar and the shared mailbox; the restore has one folder per calendar and the series as ONE VEVENT with RRULE, EXDATE and a RECURRENCE-ID override', async () => {
    const r = await suite.cli(['backup', '--tenant', 'calco', '--json'], t.password);
    assert.equal(r.code, 0, r.stderr);
    firstDone = new Date().toISOString();
    const rep = report(r.stdout);
    const shared = rep.users.find((u) => u.userPrincipalName.startsWith('sales.'));
    assert.equal(shared?.mailbox, 'shared', `the run report names the shared mailbox: ${JSON.stringify(rep.users.map((u) => [u.userPrincipalName, u.mailbox]))}`);
    assert.deepEqual(shared!.services.map((s) => s.service).sort(), ['calendar', 'contacts', 'mail'], 'backed up like a user (no OneDrive)');
    assert.equal(rep.users.filter((u) => u.mailbox).length, 1, 'ordinary users are not called shared');
    expectedFirst = snapshotExpectation(t);

    const target = join(suite.work, 'restore-1');
    const restore = await suite.cli(['restore', '--tenant', 'calco', target], t.password);
    assert.equal(restore.code, 0, restore.stderr);
    const sharedMime = [...expectedFirst.files.entries()].filter(([k, v]) => k.startsWith(`${shared!.userPrincipalName}/Mail/`) && v.kind === 'bytes');
    assert.ok(sharedMime.length >= SHAPE.messagesPerUser, 'the shared mailbox has messages to compare');
    assertRestoreMatches(target, expectedFirst); // every calendar's events, the shared mailbox's MIME byte for byte
    const upn = upnOf(0);
    const files = walk(join(target, upn, 'Calendar'));
    assert.ok(files.some((f) => f.startsWith('Calendar/')) && files.some((f) => f.startsWith('Projects/')), `one folder per calendar: ${files.join(', ')}`);
    const series = seriesOf(upn);
    const seriesFile = files.find((f) => f.includes('Weekly'))!;
    const evs = vevents(join(target, upn, 'Calendar', seriesFile));
    const masters = evs.filter((e) => !e.hasProperty('recurrence-id'));
    const overrides = evs.filter((e) => e.hasProperty('recurrence-id'));
    assert.equal(masters.length, 1, 'the series is one VEVENT');
    assert.equal(files.filter((f) => f.includes('Weekly')).length, 1, 'not ten separate events');
    const rrule = masters[0]!.getFirstPropertyValue('rrule') as ICALModule.Recur;
    assert.equal(rrule.freq, 'WEEKLY');
    assert.equal(rrule.count, 10);
    const exdates = masters[0]!.getAllProperties('exdate').map((p) => (p.getFirstValue() as ICALModule.Time).toJSDate().getTime());
    assert.deepEqual(exdates, [Date.parse(series.start) + 4 * WEEK], 'EXDATE: the cancelled occurrence');
    assert.equal(overrides.length, 1);
    assert.equal((overrides[0]!.getFirstPropertyValue('recurrence-id') as ICALModule.Time).toJSDate().getTime(), Date.parse(series.start) + 2 * WEEK);
    assert.equal(overrides[0]!.getFirstPropertyValue('summary'), `${series.subject} (moved)`);
    assert.equal(overrides[0]!.getFirstPropertyValue('uid'), masters[0]!.getFirstPropertyValue('uid'));
    // Expanded by an iCalendar reader: 10 - 1 cancelled = 9 instances, the exception at its moved time.
    const expansion = new ICAL.Event(masters[0]!, { exceptions: overrides });
    const it = expansion.iterator();
    const starts: number[] = [];
    for (let next = it.next(); next && starts.length < 20; next = it.next()) starts.push(expansion.getOccurrenceDetails(next).startDate.toJSDate().getTime());
    assert.equal(starts.length, 9);
    assert.ok(starts.includes(Date.parse(series.start) + 2 * WEEK + 3_600_000), 'the exception moved by an hour');
    // Mailbox configuration beside the mail.
    const settings = JSON.parse(readFileSync(join(target, upn, 'Mail', '_mailboxSettings.json'), 'utf8')) as { automaticRepliesSetting?: { status?: string } };
    assert.equal(settings.automaticRepliesSetting?.status, 'disabled');
    assert.ok(Array.isArray(JSON.parse(readFileSync(join(target, upn, 'Mail', '_masterCategories.json'), 'utf8'))));
    assert.ok(Array.isArray(JSON.parse(readFileSync(join(target, upn, 'Mail', '_messageRules.json'), 'utf8'))));
  });

  test('day 2: a changed series exception, a new cancellation, a new event in the second calendar and new automatic replies -> the incremental fetches only those; both points in time restore exactly', async () => {
    const upn = upnOf(1);
    const series = seriesOf(upn);
    t.editor.updateOccurrence(upn, series.id, new Date(Date.parse(series.start) + 2 * WEEK).toISOString(), { subject: 'Moved again', location: 'Room 7' });
    t.editor.cancelOccurrence(upn, series.id, new Date(Date.parse(series.start) + 6 * WEEK).toISOString());
    t.editor.addEvent(upn, { subject: 'Day two', bodyText: 'x', start: '2026-06-20T10:00:00.000Z', end: '2026-06-20T11:00:00.000Z', isAllDay: false, location: '', organizer: { name: 'me', address: upn }, attendees: [], calendarId: t.editor.calendarId(upn, 'Projects') });
    t.editor.updateMailboxConfig(upn, (c) => Object.assign(c.automaticReplies, { status: 'alwaysEnabled', internalReplyMessage: 'Away until Monday' }));
    suite.sim.resetStats();
    const r = await suite.cli(['backup', '--tenant', 'calco', '--json'], t.password);
    assert.equal(r.code, 0, r.stderr);
    const cal = report(r.stdout).users.flatMap((u) => u.services.filter((s) => s.service === 'calendar').map((s) => ({ upn: u.userPrincipalName, s })));
    const fetched = Object.fromEntries(cal.map((c) => [c.upn, (c.s as unknown as { fetched?: number }).fetched ?? (c.s as unknown as { changedItems?: number }).changedItems]));
    assert.equal(suite.sim.stats.requests.get('calendar.event') ?? 0, 1, 'only the changed series master is fetched again');
    assert.equal(suite.sim.stats.items.get('calendar.eventsDelta') ?? 0, 2, `the deltas return the changed series and the new event only (${JSON.stringify(fetched)})`);
    assert.equal(suite.sim.stats.requests.get('calendar.instances') ?? 0, 0);

    const latest = join(suite.work, 'restore-2');
    assert.equal((await suite.cli(['restore', '--tenant', 'calco', latest], t.password)).code, 0);
    assertRestoreMatches(latest, snapshotExpectation(t));
    const file = walk(join(latest, upn, 'Calendar')).find((f) => f.includes('Weekly'))!;
    const evs = vevents(join(latest, upn, 'Calendar', file));
    assert.equal(evs.filter((e) => e.hasProperty('recurrence-id'))[0]!.getFirstPropertyValue('summary'), 'Moved again');
    assert.equal(evs[0]!.getAllProperties('exdate').length, 2);
    const settings = JSON.parse(readFileSync(join(latest, upn, 'Mail', '_mailboxSettings.json'), 'utf8')) as { automaticRepliesSetting?: { status?: string; internalReplyMessage?: string } };
    assert.equal(settings.automaticRepliesSetting?.internalReplyMessage, 'Away until Monday');

    const earlier = join(suite.work, 'restore-1b');
    assert.equal((await suite.cli(['restore', '--tenant', 'calco', '--at', firstDone, earlier], t.password)).code, 0);
    assertRestoreMatches(earlier, expectedFirst);
    const old = vevents(join(earlier, upn, 'Calendar', file));
    assert.equal(old.filter((e) => e.hasProperty('recurrence-id'))[0]!.getFirstPropertyValue('summary'), `${series.subject} (moved)`);
    assert.equal(old[0]!.getAllProperties('exdate').length, 1);
  });

  test('an unchanged mailbox: the calendar unit costs the calendar list and one delta per calendar, nothing fetched', async () => {
    suite.sim.resetStats();
    const r = await suite.cli(['backup', '--tenant', 'calco', '--json'], t.password);
    assert.equal(r.code, 0, r.stderr);
    const mailboxes = [...t.tenant.users.values()].filter((u) => u.user.hasMailbox).length;
    const calendars = [...t.tenant.users.values()].filter((u) => u.user.hasMailbox).reduce((n, u) => n + calendarsOf(u).size, 0);
    assert.equal(suite.sim.stats.requests.get('calendar.calendars'), mailboxes);
    assert.equal(suite.sim.stats.requests.get('calendar.eventsDelta'), calendars);
    assert.equal(suite.sim.stats.items.get('calendar.eventsDelta') ?? 0, 0);
    assert.equal(suite.sim.stats.requests.get('calendar.event') ?? 0, 0);
  });

  test('410 on the calendar delta -> the calendars are listed again in full, no duplicate, nothing lost', async () => {
    const upn = upnOf(0);
    suite.sim.expireDeltaTokens(t.tenant, upn);
    const r = await suite.cli(['backup', '--tenant', 'calco', '--user', upn, '--json'], t.password);
    assert.equal(r.code, 0, r.stderr);
    const calendar = report(r.stdout).users[0]!.services.find((s) => s.service === 'calendar')!;
    assert.ok((calendar.resynced ?? 0) >= 2, `every calendar resynced: ${JSON.stringify(calendar)}`);
    const target = join(suite.work, 'restore-410');
    assert.equal((await suite.cli(['restore', '--tenant', 'calco', target], t.password)).code, 0);
    assertRestoreMatches(target, snapshotExpectation(t)); // exactly the expected files: no duplicate
  });
});
