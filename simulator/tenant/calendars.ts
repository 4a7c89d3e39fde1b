/**
 * Calendars of a simulated mailbox: several calendars, recurring series (a master with its
 * recurrence, exceptions and cancelled occurrences), and the expansion of a series into its
 * occurrences. Times are UTC throughout (recurrenceTimeZone "UTC"), which keeps the expansion
 * exact without a time-zone database.
 */
import type { SimEvent, SimUserData } from './model';

export interface SimCalendar {
  id: string;
  name: string;
  color: string;
  isDefaultCalendar: boolean;
  version: number;
}

/** Graph's patternedRecurrence (the subset the simulator expands: daily, weekly, absoluteMonthly). */
export interface SimRecurrence {
  pattern: { type: 'daily' | 'weekly' | 'absoluteMonthly'; interval: number; daysOfWeek?: string[]; dayOfMonth?: number; firstDayOfWeek?: string };
  range: { type: 'endDate' | 'numbered' | 'noEnd'; startDate: string; endDate?: string; numberOfOccurrences?: number; recurrenceTimeZone?: string };
}

/** A modified occurrence of a series: it keeps its own id and its original start. */
export interface SimException {
  id: string;
  /** The start the occurrence had in the pattern (ISO, UTC). */
  originalStart: string;
  subject: string;
  bodyText: string;
  start: string;
  end: string;
  location: string;
}

/** An invitation the simulated Exchange would have sent (an event created or updated with attendees). */
export interface SimInvitation {
  eventId: string;
  attendees: string[];
}

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const DAY = 86_400_000;
/** A series without an end is expanded this far past its start (what /instances can reach here). */
const NO_END_SPAN = 5 * 366 * DAY;

/** The id of the default calendar of a mailbox (stable: derived from the user id). */
export const defaultCalendarId = (u: SimUserData) => `AAMkCal-${u.user.id.slice(0, 8)}-default`;

/** The mailbox's calendars, the default one ("Calendar") first; created on first use. */
export function calendarsOf(u: SimUserData): Map<string, SimCalendar> {
  const box = u.mailbox;
  if (!box.calendars) box.calendars = new Map();
  const id = defaultCalendarId(u);
  if (!box.calendars.has(id)) box.calendars.set(id, { id, name: 'Calendar', color: 'auto', isDefaultCalendar: true, version: 1 });
  return box.calendars;
}

/** Which calendar an event is in (events without one are in the default calendar). */
export const calendarOfEvent = (u: SimUserData, e: SimEvent) => e.calendarId ?? defaultCalendarId(u);

/** Original starts (ms) of every occurrence the pattern produces, cancelled ones included. */
export function patternStarts(master: SimEvent): number[] {
  const r = master.recurrence;
  if (!r) return [];
  const first = Date.parse(master.start);
  const timeOfDay = first - Math.floor(first / DAY) * DAY;
  const rangeStart = Date.parse(`${r.range.startDate}T00:00:00Z`);
  const endLimit = r.range.type === 'endDate' && r.range.endDate ? Date.parse(`${r.range.endDate}T00:00:00Z`) + DAY : rangeStart + NO_END_SPAN;
  const maxCount = r.range.type === 'numbered' ? (r.range.numberOfOccurrences ?? 0) : Number.MAX_SAFE_INTEGER;
  const interval = Math.max(1, r.pattern.interval || 1);
  const out: number[] = [];
  const push = (dayStart: number) => {
    const t = dayStart + timeOfDay;
    if (t >= first && t < endLimit && out.length < maxCount) out.push(t);
  };
  if (r.pattern.type === 'daily') {
    for (let d = rangeStart; d < endLimit && out.length < maxCount; d += interval * DAY) push(d);
  } else if (r.pattern.type === 'weekly') {
    const days = new Set((r.pattern.daysOfWeek ?? [DAYS[new Date(first).getUTCDay()]!]).map((d) => DAYS.indexOf(d.toLowerCase())));
    const weekStart = rangeStart - new Date(rangeStart).getUTCDay() * DAY;
    for (let w = weekStart; w < endLimit && out.length < maxCount; w += interval * 7 * DAY)
      for (let i = 0; i < 7; i++) if (days.has(i) && w + i * DAY >= rangeStart) push(w + i * DAY);
  } else {
    const dom = r.pattern.dayOfMonth || new Date(first).getUTCDate();
    const s = new Date(rangeStart);
    for (let m = 0; out.length < maxCount; m += interval) {
      const d = Date.UTC(s.getUTCFullYear(), s.getUTCMonth() + m, dom);
      if (d >= endLimit) break;
      if (new Date(d).getUTCDate() === dom && d >= rangeStart) push(d);
    }
  }
  return out;
}

/** The date part (yyyy-mm-dd) of an ISO instant: what a cancelled occurrence's id carries. */
export const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Graph's occurrenceId: OID.{seriesMasterId}.{occurrence start date in the recurrence time zone}. */
export const occurrenceIdOf = (masterId: string, originalStartMs: number) => `OID.${masterId}.${isoDate(originalStartMs)}`;

/** The id of an unmodified occurrence (opaque to clients; here derived from master and date). */
export const occurrenceEventId = (masterId: string, originalStartMs: number) => `${masterId}_occ_${isoDate(originalStartMs).replace(/-/g, '')}`;

export interface Instance {
  kind: 'occurrence' | 'exception';
  id: string;
  originalStart: number;
  start: string;
  end: string;
  exception?: SimException;
}

/** The instances of a series: occurrences and exceptions, cancelled ones left out, in start order. */
export function instancesOf(master: SimEvent): Instance[] {
  const dur = Date.parse(master.end) - Date.parse(master.start);
  const cancelled = new Set((master.cancelled ?? []).map((c) => Date.parse(c)));
  const exceptions = new Map((master.exceptions ?? []).map((x) => [Date.parse(x.originalStart), x]));
  const out: Instance[] = [];
  for (const t of patternStarts(master)) {
    if (cancelled.has(t)) continue;
    const x = exceptions.get(t);
    if (x) out.push({ kind: 'exception', id: x.id, originalStart: t, start: x.start, end: x.end, exception: x });
    else out.push({ kind: 'occurrence', id: occurrenceEventId(master.id, t), originalStart: t, start: new Date(t).toISOString(), end: new Date(t + dur).toISOString() });
  }
  return out.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
}

/** The series master and instance an occurrence or exception id names, if any. */
export function findInstance(u: SimUserData, id: string): { master: SimEvent; instance: Instance } | undefined {
  const m = /^(.*)_occ_(\d{8})$/.exec(id);
  for (const master of u.mailbox.events.values()) {
    if (!master.recurrence) continue;
    if (m && master.id !== m[1]) continue;
    if (!m && !(master.exceptions ?? []).some((x) => x.id === id)) continue;
    const inst = instancesOf(master).find((i) => i.id === id);
    if (inst) return { master, instance: inst };
  }
  return undefined;
}
