import { getJson, isGraphReadFailure, listAll } from '../requests';
import type { GraphConnection } from '../connection';
import { readDeltaScopes, type DeltaScopeSpec } from './deltaBatch';
import { isObject, type ServiceSource, type SourceChange, type SourceContext } from './types';

/** The scope of the calendar list itself (failures of the listing are reported under it). */
export const CALENDARS_SCOPE = 'calendars';
/** The scope of releases before series were stored as series (one calendarView delta of the default calendar). */
export const LEGACY_EVENTS_SCOPE = 'events';

interface GraphCalendar {
  id: string;
  name: string;
  isDefaultCalendar?: boolean;
}

const isDateTimeTimeZone = (v: unknown) => isObject(v) && typeof v.dateTime === 'string' && typeof v.timeZone === 'string';

/** Graph's beta endpoint beside the v1.0 one the connection is set up for. */
export const betaUrl = (conn: GraphConnection, path: string) => `${conn.endpoints.graphBaseUrl.replace(/\/v1\.0\/?$/, '')}/beta${path}`;

/**
 * A cursor remembers the calendar's name it was issued under: a renamed calendar is listed in full
 * again, so every event's stored calendar name (its restore folder) follows the rename.
 */
const wrapCursor = (name: string, link: string) => `${encodeURIComponent(name)} ${link}`;
function unwrapCursor(name: string, cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const prefix = `${encodeURIComponent(name)} `;
  return cursor.startsWith(prefix) ? cursor.slice(prefix.length) : undefined;
}

/** What convert returns for entries that are not items of their own (occurrences, exceptions): dropped. */
const SKIP = '\0skip';

/**
 * Calendar: every calendar of the mailbox (GET /calendars, read in full each run), and per
 * calendar the beta `events/delta` (the one Corso uses). Why that feed and not v1.0 calendarView:
 * calendarView needs a time window and expands series into occurrences, so a series came back as
 * loose events and anything outside the window was lost. The per-calendar event delta is unbounded
 * in time and returns single instances and series masters, not expanded; its delta token makes an
 * unchanged calendar cost one request (listing with changeKey would re-read every event each run).
 *
 * A single instance is stored as the JSON the delta returned. A series master is fetched once more
 * (beta, `$expand=exceptionOccurrences`, which also carries `cancelledOccurrences`) and stored as
 * that JSON: one item per series holding its recurrence, its exceptions and its cancellations.
 * Exchange keeps exceptions inside the master item, so changing or cancelling one occurrence
 * changes the master's changeKey and the delta reports the master: only changed series are fetched.
 * Occurrences and exceptions, should a feed return them, are not items of their own.
 */
export class CalendarSource implements ServiceSource {
  readonly service = 'calendar' as const;
  constructor(private readonly ctx: SourceContext) {}

  async *changes(cursors: Record<string, string>): AsyncIterable<SourceChange> {
    const { conn, userId } = this.ctx;
    let calendars: GraphCalendar[];
    try {
      calendars = await listAll<GraphCalendar>(conn, `/users/${userId}/calendars?$select=id,name,isDefaultCalendar&$top=250`, `calendars of user ${userId}`);
    } catch (e) {
      if (isGraphReadFailure(e)) {
        yield { kind: 'scopeFailed', scope: CALENDARS_SCOPE, reason: e.message };
        return;
      }
      throw e;
    }
    const live = new Set(calendars.map((c) => c.id));
    for (const scope of Object.keys(cursors)) if (scope !== LEGACY_EVENTS_SCOPE && !live.has(scope)) yield { kind: 'scopeGone', scope };

    const specs: DeltaScopeSpec[] = calendars.map((cal) => ({
      scope: cal.id,
      initialUrl: betaUrl(conn, `/users/${userId}/calendars/${cal.id}/events/delta`),
      cursor: unwrapCursor(cal.name, cursors[cal.id]),
      what: `event delta of calendar ${cal.name}`,
      headers: { Prefer: `odata.maxpagesize=${this.ctx.pageSize}` },
      convert: (raw) => this.convert(cal, raw),
    }));
    const names = new Map(calendars.map((c) => [c.id, c.name]));
    for await (const c of readDeltaScopes(conn, specs)) {
      if (c.kind === 'item' && c.id === SKIP) continue;
      if (c.kind === 'scopeComplete' && c.cursor) yield { ...c, cursor: wrapCursor(names.get(c.scope) ?? '', c.cursor) };
      else if (c.kind === 'page') yield { ...c, nextLink: wrapCursor(names.get(c.scope) ?? '', c.nextLink) };
      else yield c;
    }
    // A repository of an earlier release read the default calendar's calendarView (scope "events"):
    // its items that were not listed again above (occurrences, now inside their series) end here.
    if (cursors[LEGACY_EVENTS_SCOPE]) yield { kind: 'scopeGone', scope: LEGACY_EVENTS_SCOPE };
  }

  private convert(cal: GraphCalendar, raw: unknown): SourceChange {
    const { conn, userId } = this.ctx;
    const scope = cal.id;
    const id = isObject(raw) && typeof raw.id === 'string' ? raw.id : undefined;
    if (!isObject(raw) || !id) return { kind: 'failed', id: '?', scope, reason: 'an event without an id' };
    if (raw['@removed']) return { kind: 'removed', id, scope };
    if (raw.type === 'occurrence' || raw.type === 'exception') return { kind: 'item', id: SKIP, scope, version: '', meta: {} };
    if (!isDateTimeTimeZone(raw.start) || !isDateTimeTimeZone(raw.end) || (raw.subject !== null && raw.subject !== undefined && typeof raw.subject !== 'string'))
      return { kind: 'failed', id, scope, reason: 'malformed event (start, end or subject)' };
    const series = raw.type === 'seriesMaster';
    const common = { calendarId: cal.id, calendarName: cal.name, defaultCalendar: cal.isDefaultCalendar === true, subject: raw.subject ?? '', start: raw.start, end: raw.end, isAllDay: raw.isAllDay ?? false };
    const version = `${String(raw.changeKey ?? raw['@odata.etag'] ?? '')}\0${cal.name}`;
    if (!series) {
      const data = Buffer.from(JSON.stringify(raw));
      return { kind: 'item', id, scope, version, meta: { type: 'event', ...common }, content: async () => ({ data }) };
    }
    const recurrence = isObject(raw.recurrence) ? raw.recurrence : null;
    return {
      kind: 'item',
      id,
      scope,
      version,
      meta: { type: 'series', ...common, recurrence },
      content: async () => {
        const full = await getJson<Record<string, unknown>>(conn, betaUrl(conn, `/users/${userId}/events/${encodeURIComponent(id)}?$expand=exceptionOccurrences`), `series ${id}`);
        if (!isObject(full.recurrence)) throw new Error(`series ${id}: the master came back without its recurrence`);
        return { data: Buffer.from(JSON.stringify(full)) };
      },
    };
  }
}
