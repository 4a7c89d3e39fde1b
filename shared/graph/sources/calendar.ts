import { readDeltaScope } from './deltaScope';
import { isObject, type ServiceSource, type SourceChange, type SourceContext } from './types';

const SCOPE = 'events';

const isDateTimeTimeZone = (v: unknown) => isObject(v) && typeof v.dateTime === 'string' && typeof v.timeZone === 'string';

/**
 * Calendar: the primary calendar's calendarView delta over a window (default five years back and
 * forward; Graph v1.0 has no unbounded event delta). Each event is stored as its Graph JSON.
 */
export class CalendarSource implements ServiceSource {
  readonly service = 'calendar' as const;
  constructor(private readonly ctx: SourceContext) {}

  async *changes(cursors: Record<string, string>): AsyncIterable<SourceChange> {
    const { conn, userId } = this.ctx;
    const now = (this.ctx.now ?? new Date()).getTime();
    const day = 86_400_000;
    const start = new Date(now - this.ctx.calendarWindowDays * day).toISOString();
    const end = new Date(now + this.ctx.calendarWindowDays * day).toISOString();
    const initial = `/users/${userId}/calendarView/delta?startDateTime=${encodeURIComponent(start)}&endDateTime=${encodeURIComponent(end)}`;
    yield* readDeltaScope(conn, SCOPE, initial, cursors[SCOPE], `calendar delta of user ${userId}`, { Prefer: `odata.maxpagesize=${this.ctx.pageSize}` }, (raw) => {
      const id = isObject(raw) && typeof raw.id === 'string' ? raw.id : undefined;
      if (!isObject(raw) || !id) return { kind: 'failed', id: '?', scope: SCOPE, reason: 'an event without an id' };
      if (raw['@removed']) return { kind: 'removed', id, scope: SCOPE };
      if (!isDateTimeTimeZone(raw.start) || !isDateTimeTimeZone(raw.end) || (raw.subject !== null && raw.subject !== undefined && typeof raw.subject !== 'string'))
        return { kind: 'failed', id, scope: SCOPE, reason: 'malformed event (start, end or subject)' };
      const data = Buffer.from(JSON.stringify(raw));
      return {
        kind: 'item',
        id,
        scope: SCOPE,
        version: String(raw.changeKey ?? raw['@odata.etag'] ?? ''),
        meta: { type: 'event', subject: raw.subject ?? '', start: raw.start, end: raw.end, isAllDay: raw.isAllDay ?? false },
        content: async () => ({ data }),
      };
    });
  }
}
