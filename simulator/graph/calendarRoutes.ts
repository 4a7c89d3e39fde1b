import { createHash } from 'node:crypto';
import type { SimTenant, SimUserData, SimEvent } from '../tenant/model';
import { calendarOfEvent, calendarsOf, findInstance, instancesOf, occurrenceIdOf, type Instance, type SimCalendar, type SimRecurrence } from '../tenant/calendars';
import { deltaPage, listPage } from './delta';
import { graphError, json, type SimRequest, type SimResponse } from './http';
import type { RouteContext, RouteMatch } from './routes';
import { eventJson, malformedJson, removedJson } from './shapes';

/**
 * Calendar routes: every calendar of a mailbox, its events (single instances and series masters),
 * a series' instances, the beta per-calendar events delta (unbounded in time, series not expanded),
 * and the writes a restore uses (create a calendar, create/update/delete events and occurrences).
 * Shapes follow the Graph docs for event, calendar, patternedRecurrence.
 */

const changeKey = (id: string, version: number) => createHash('sha1').update(`${id}/${version}`).digest('base64').slice(0, 24);
const dtz = (iso: string) => ({ dateTime: iso.replace('Z', '').replace(/\.(\d{3})$/, '.$10000'), timeZone: 'UTC' });
const notFound = (what: string) => graphError(404, 'ErrorItemNotFound', `The specified object was not found in the store. (${what})`);

/** The tombstone scope of a calendar's events. */
export const eventsScope = (calendarId: string) => `events:${calendarId}`;

export function calendarJson(c: SimCalendar, u: SimUserData): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    color: c.color,
    hexColor: '',
    isDefaultCalendar: c.isDefaultCalendar,
    changeKey: changeKey(c.id, c.version),
    canShare: true,
    canViewPrivateItems: true,
    canEdit: true,
    isRemovable: !c.isDefaultCalendar,
    allowedOnlineMeetingProviders: ['teamsForBusiness'],
    defaultOnlineMeetingProvider: 'teamsForBusiness',
    owner: { name: u.user.displayName, address: u.user.mail ?? u.user.userPrincipalName },
  };
}

function recurrenceJson(r: SimRecurrence): Record<string, unknown> {
  return {
    pattern: { type: r.pattern.type, interval: r.pattern.interval, month: 0, dayOfMonth: r.pattern.dayOfMonth ?? 0, daysOfWeek: r.pattern.daysOfWeek ?? [], firstDayOfWeek: r.pattern.firstDayOfWeek ?? 'sunday', index: 'first' },
    range: { type: r.range.type, startDate: r.range.startDate, endDate: r.range.endDate ?? '0001-01-01', recurrenceTimeZone: r.range.recurrenceTimeZone ?? 'UTC', numberOfOccurrences: r.range.numberOfOccurrences ?? 0 },
  };
}

/** A single instance or series master as Graph returns it (beta adds cancelledOccurrences and occurrenceId). */
export function calendarEventJson(u: SimUserData, e: SimEvent, beta: boolean): Record<string, unknown> {
  const base: Record<string, unknown> = { ...eventJson(e), type: e.recurrence ? 'seriesMaster' : 'singleInstance', recurrence: e.recurrence ? recurrenceJson(e.recurrence) : null, calendarId: calendarOfEvent(u, e) };
  base.lastModifiedDateTime = new Date(Date.parse(e.start) + e.version * 1000).toISOString();
  if (e.transactionId) base.transactionId = e.transactionId;
  if (beta) {
    base.occurrenceId = null;
    if (e.recurrence) base.cancelledOccurrences = (e.cancelled ?? []).map((c) => occurrenceIdOf(e.id, Date.parse(c)));
  }
  return base;
}

/** An occurrence or exception of a series. */
export function instanceJson(u: SimUserData, master: SimEvent, i: Instance, beta: boolean): Record<string, unknown> {
  const x = i.exception;
  const base: Record<string, unknown> = {
    ...eventJson({ ...master, subject: x?.subject ?? master.subject, bodyText: x?.bodyText ?? master.bodyText, location: x?.location ?? master.location, start: i.start, end: i.end }),
    id: i.id,
    type: i.kind,
    seriesMasterId: master.id,
    originalStart: new Date(i.originalStart).toISOString().replace('.000Z', 'Z'),
    recurrence: null,
    calendarId: calendarOfEvent(u, master),
  };
  if (beta) base.occurrenceId = occurrenceIdOf(master.id, i.originalStart);
  return base;
}

interface EventBody {
  subject?: string;
  body?: { contentType?: string; content?: string };
  start?: { dateTime?: string; timeZone?: string };
  end?: { dateTime?: string; timeZone?: string };
  isAllDay?: boolean;
  location?: { displayName?: string };
  attendees?: { emailAddress?: { name?: string; address?: string } }[];
  recurrence?: SimRecurrence | null;
  transactionId?: string;
}

/** Graph dateTimeTimeZone -> ISO UTC (the simulator accepts UTC only, as its events are UTC). */
function utc(v: { dateTime?: string; timeZone?: string } | undefined): string | undefined {
  if (!v?.dateTime) return undefined;
  if (v.timeZone && v.timeZone !== 'UTC') return undefined;
  const t = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(v.dateTime) ? v.dateTime : `${v.dateTime}Z`);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

function parseBody(req: SimRequest): EventBody | undefined {
  try {
    const b = JSON.parse(req.body.toString('utf8')) as unknown;
    return typeof b === 'object' && b !== null ? (b as EventBody) : undefined;
  } catch {
    return undefined;
  }
}

const attendeesOf = (b: EventBody) => (b.attendees ?? []).map((a) => ({ name: a.emailAddress?.name ?? '', address: a.emailAddress?.address ?? '' })).filter((a) => a.address);

/** Records the invitation Exchange sends when an event with attendees is saved by its organizer. */
function invite(u: SimUserData, eventId: string, attendees: { address: string }[]): void {
  if (attendees.length === 0) return;
  (u.mailbox.invitations ??= []).push({ eventId, attendees: attendees.map((a) => a.address) });
}

type Outlook = (name: string, run: () => SimResponse, delta?: boolean) => RouteMatch;

/** Writes need Calendars.ReadWrite (the backup's token has Calendars.Read only): 403 otherwise. */
const CALENDARS_WRITE = 'Calendars.ReadWrite';

export function matchCalendarRoute(req: SimRequest, tenant: SimTenant, ctx: RouteContext, u: SimUserData, rest: string[], beta: boolean, outlook: Outlook): RouteMatch | undefined {
  const box = u.mailbox;
  const method = req.method;
  const roles = (ctx as RouteContext & { roles?: (authorization: string | undefined) => string[] }).roles;
  const writing = method === 'POST' || method === 'PATCH' || method === 'DELETE';
  if (writing && roles && !roles(req.headers.authorization).includes(CALENDARS_WRITE)) {
    const denied = matchCalendarRoute(req, tenant, { ...ctx, roles: () => [CALENDARS_WRITE] } as RouteContext, u, rest, beta, outlook);
    return denied && { ...denied, run: () => graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.') };
  }
  const calendarById = (id: string) => (id === 'calendar' ? [...calendarsOf(u).values()].find((c) => c.isDefaultCalendar) : calendarsOf(u).get(id));
  const eventsIn = (cid: string) => [...box.events.values()].filter((e) => calendarOfEvent(u, e) === cid);
  const render = (e: SimEvent) => (u.corrupt.has(e.id) ? malformedJson(e.id) : calendarEventJson(u, e, beta));

  // /calendars, /calendar
  if (rest[0] === 'calendars' && rest.length === 1) {
    if (method === 'GET') return outlook('calendar.calendars', () => listPage(req, ctx.origin, [...calendarsOf(u).values()].map((c) => calendarJson(c, u)), 10, 999));
    if (method === 'POST')
      return outlook('calendar.createCalendar', () => {
        const b = parseBody(req) as { name?: string; color?: string } | undefined;
        if (!b?.name) return graphError(400, 'ErrorInvalidRequest', 'A calendar needs a name.');
        if ([...calendarsOf(u).values()].some((c) => c.name.toLowerCase() === b.name!.toLowerCase())) return graphError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
        const c: SimCalendar = { id: `AAMkCal-${tenant.newId()}`, name: b.name, color: b.color ?? 'auto', isDefaultCalendar: false, version: tenant.stamp() };
        calendarsOf(u).set(c.id, c);
        return json(201, calendarJson(c, u));
      });
  }
  const isCalendarPath = (rest[0] === 'calendars' && rest[1] !== undefined) || rest[0] === 'calendar';
  if (isCalendarPath) {
    const cid = rest[0] === 'calendar' ? 'calendar' : rest[1]!;
    const tail = rest[0] === 'calendar' ? rest.slice(1) : rest.slice(2);
    const cal = calendarById(cid);
    if (tail.length === 0 && method === 'GET') return outlook('calendar.calendar', () => (cal ? json(200, calendarJson(cal, u)) : notFound('calendar')));
    if (tail[0] === 'events' && tail[1] === 'delta' && tail.length === 2 && method === 'GET') {
      // The per-calendar event delta is a beta API: v1.0 does not know the segment.
      if (!beta) return undefined;
      return outlook(
        'calendar.eventsDelta',
        () =>
          !cal
            ? notFound('calendar')
            : deltaPage(req, ctx.origin, tenant.version, {
                live: eventsIn(cal.id),
                tombstones: u.tombstones.filter((t) => t.scope === eventsScope(cal.id)),
                render,
                removed: (id) => removedJson('event', id),
                defaultPageSize: 10,
                maxPageSize: 1000,
                floor: ctx.floor(u),
                expiredCode: 'syncStateNotFound',
              }),
        true,
      );
    }
    if (tail[0] === 'events' && tail.length === 1 && method === 'GET') return outlook('calendar.events', () => (cal ? listPage(req, ctx.origin, eventsIn(cal.id).map(render), 10, 999) : notFound('calendar')));
    if (tail[0] === 'events' && tail.length === 1 && method === 'POST') return outlook('calendar.createEvent', () => (cal ? createEvent(tenant, u, cal, req) : notFound('calendar')));
    return undefined;
  }

  // /events/{id}, /events/{id}/instances
  if (rest[0] === 'events' && rest[1]) {
    const id = rest[1];
    const e = box.events.get(id);
    const inst = e ? undefined : findInstance(u, id);
    if (rest.length === 2 && method === 'GET')
      return outlook('calendar.event', () => {
        if (e) {
          if (u.corrupt.has(e.id)) return { status: 200, headers: { 'Content-Type': 'application/json' }, bytes: Buffer.from(`{"id":"${e.id}","subject":`) };
          const body = calendarEventJson(u, e, beta);
          // beta: exceptionOccurrences is a navigation property of a series master, returned with $expand.
          if (beta && e.recurrence && /exceptionOccurrences/.test(req.url.searchParams.get('$expand') ?? ''))
            body.exceptionOccurrences = instancesOf(e)
              .filter((i) => i.kind === 'exception')
              .map((i) => instanceJson(u, e, i, beta));
          return json(200, body);
        }
        return inst ? json(200, instanceJson(u, inst.master, inst.instance, beta)) : notFound('event');
      });
    if (rest[2] === 'instances' && rest.length === 3 && method === 'GET')
      return outlook('calendar.instances', () => {
        const start = Date.parse(req.url.searchParams.get('startDateTime') ?? '');
        const end = Date.parse(req.url.searchParams.get('endDateTime') ?? '');
        if (Number.isNaN(start) || Number.isNaN(end)) return graphError(400, 'ErrorInvalidParameter', "This request requires a time window specified by the query string parameters 'startDateTime' and 'endDateTime'.");
        if (!e) return notFound('event');
        if (!e.recurrence) return json(200, { value: [] });
        const list = instancesOf(e).filter((i) => Date.parse(i.end) > start && Date.parse(i.start) < end);
        return listPage(req, ctx.origin, list.map((i) => instanceJson(u, e, i, beta)), 10, 999);
      });
    if (rest.length === 2 && method === 'PATCH') return outlook('calendar.updateEvent', () => updateEvent(tenant, u, id, req));
    if (rest.length === 2 && method === 'DELETE') return outlook('calendar.deleteEvent', () => deleteEvent(tenant, u, id));
  }
  return undefined;
}

function createEvent(tenant: SimTenant, u: SimUserData, cal: SimCalendar, req: SimRequest): SimResponse {
  const b = parseBody(req);
  if (!b) return graphError(400, 'ErrorInvalidRequest', 'The request body is not a JSON object.');
  if (b.transactionId) {
    // transactionId: a retried POST of the same event creates nothing new.
    const existing = [...u.mailbox.events.values()].find((e) => e.transactionId === b.transactionId);
    if (existing) return json(201, calendarEventJson(u, existing, false));
  }
  const start = utc(b.start);
  const end = utc(b.end);
  if (!start || !end) return graphError(400, 'ErrorInvalidRequest', 'start and end must be dateTimeTimeZone values (the simulator accepts UTC).');
  const attendees = attendeesOf(b);
  const e: SimEvent = {
    id: tenant.newId(),
    version: tenant.stamp(),
    subject: b.subject ?? '',
    bodyText: b.body?.content ?? '',
    start,
    end,
    isAllDay: b.isAllDay === true,
    location: b.location?.displayName ?? '',
    attendees,
    organizer: { name: u.user.displayName, address: u.user.mail ?? u.user.userPrincipalName },
    ...(cal.isDefaultCalendar ? {} : { calendarId: cal.id }),
    ...(b.recurrence ? { recurrence: b.recurrence, exceptions: [], cancelled: [] } : {}),
    ...(b.transactionId ? { transactionId: b.transactionId } : {}),
  };
  u.mailbox.events.set(e.id, e);
  invite(u, e.id, attendees);
  return json(201, calendarEventJson(u, e, false));
}

function updateEvent(tenant: SimTenant, u: SimUserData, id: string, req: SimRequest): SimResponse {
  const b = parseBody(req);
  if (!b) return graphError(400, 'ErrorInvalidRequest', 'The request body is not a JSON object.');
  const e = u.mailbox.events.get(id);
  const start = b.start ? utc(b.start) : undefined;
  const end = b.end ? utc(b.end) : undefined;
  if ((b.start && !start) || (b.end && !end)) return graphError(400, 'ErrorInvalidRequest', 'start and end must be dateTimeTimeZone values (the simulator accepts UTC).');
  if (e) {
    if (b.subject !== undefined) e.subject = b.subject;
    if (b.body?.content !== undefined) e.bodyText = b.body.content;
    if (b.location?.displayName !== undefined) e.location = b.location.displayName;
    if (start) e.start = start;
    if (end) e.end = end;
    if (b.attendees) e.attendees = attendeesOf(b);
    e.version = tenant.stamp();
    if (b.attendees) invite(u, e.id, e.attendees);
    return json(200, calendarEventJson(u, e, false));
  }
  const found = findInstance(u, id);
  if (!found) return notFound('event');
  const { master, instance } = found;
  // Updating an occurrence makes it an exception; it keeps its id. The master changes with it.
  const list = (master.exceptions ??= []);
  let x = instance.exception;
  if (!x) {
    x = { id: instance.id, originalStart: new Date(instance.originalStart).toISOString(), subject: master.subject, bodyText: master.bodyText, start: instance.start, end: instance.end, location: master.location };
    list.push(x);
  }
  if (b.subject !== undefined) x.subject = b.subject;
  if (b.body?.content !== undefined) x.bodyText = b.body.content;
  if (b.location?.displayName !== undefined) x.location = b.location.displayName;
  if (start) x.start = start;
  if (end) x.end = end;
  master.version = tenant.stamp();
  if (b.attendees) invite(u, x.id, attendeesOf(b));
  return json(200, instanceJson(u, master, instancesOf(master).find((i) => i.id === x!.id) ?? instance, false));
}

function deleteEvent(tenant: SimTenant, u: SimUserData, id: string): SimResponse {
  const e = u.mailbox.events.get(id);
  if (e) {
    u.mailbox.events.delete(id);
    tenant.tombstone(u, id, eventsScope(calendarOfEvent(u, e)));
    return { status: 204 };
  }
  const found = findInstance(u, id);
  if (!found) return notFound('event');
  const { master, instance } = found;
  // Deleting an occurrence cancels it: the series master records it (cancelledOccurrences) and changes.
  master.exceptions = (master.exceptions ?? []).filter((x) => Date.parse(x.originalStart) !== instance.originalStart);
  (master.cancelled ??= []).push(new Date(instance.originalStart).toISOString());
  master.version = tenant.stamp();
  return { status: 204 };
}
