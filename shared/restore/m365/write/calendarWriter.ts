import { createHash } from 'node:crypto';
import { readAll } from './itemContent';
import { CONTENT_IN_FLIGHT } from './slots';
import { isStop, reasonOf, send, sendOr404, statusOf } from './graphWrite';
import { countFailure, emptyCounts, type RestoreItem, type ServiceWriter, type WriterContext, type WriterCounts } from './serviceWriter';

type Json = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});

/** Event properties copied into a created event (never attendees: that would send invitations). */
const COPIED = ['subject', 'start', 'end', 'isAllDay', 'location', 'locations', 'categories', 'showAs', 'importance', 'sensitivity', 'isReminderOn', 'reminderMinutesBeforeStart', 'responseRequested', 'hideAttendees', 'allowNewTimeProposals'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The attendees of the backed-up event, as lines to append to the body (they are not invited again). */
function attendeeLines(event: Json): string[] {
  const out: string[] = [];
  for (const a of Array.isArray(event.attendees) ? event.attendees : []) {
    const e = obj(obj(a).emailAddress);
    if (!str(e.address)) continue;
    out.push(`${str(e.name) ? `${str(e.name)} ` : ''}<${str(e.address)}> (${str(obj(a).type) || 'required'})`);
  }
  return out;
}

/**
 * The body of a created event: the stored event's properties, no attendees, and the attendee list
 * appended to its body so nothing of who was invited is lost while no invitation is ever sent.
 */
export function eventCreateBody(event: Json, transactionId?: string): Json {
  const out: Json = {};
  for (const k of COPIED) if (event[k] !== undefined && event[k] !== null) out[k] = event[k];
  const body = obj(event.body);
  const html = str(body.contentType).toLowerCase() === 'html';
  let content = str(body.content);
  const lines = attendeeLines(event);
  if (lines.length > 0) {
    const head = 'Attendees at the time of the backup (not invited by the restore):';
    content = html ? `${content}<p>${esc(head)}<br>${lines.map(esc).join('<br>')}</p>` : `${content}${content ? '\n\n' : ''}${head}\n${lines.join('\n')}`;
  }
  out.body = { contentType: html ? 'html' : 'text', content };
  if (event.type === 'seriesMaster' && event.recurrence) out.recurrence = event.recurrence;
  if (transactionId) out.transactionId = transactionId;
  return out;
}

interface Calendar {
  id: string;
  name: string;
  isDefaultCalendar?: boolean;
}

const DAY = 86_400_000;
/** An instant of a Graph dateTimeTimeZone in UTC (stored events are UTC, as the backup reads them). */
const instant = (v: unknown) => {
  const d = str(obj(v).dateTime);
  return Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(d) ? d : `${d}Z`);
};

/**
 * Calendar: each event back into the calendar of the same name (the default calendar for the
 * default one and for events of earlier backups, which read only it; another calendar is created
 * when missing); to another user, into one new calendar named for the source and date. A series
 * comes back as one series: the master with its recurrence, then each exception applied to the
 * new series' occurrence of the same original start (PATCH), then each cancelled occurrence
 * deleted. Attendees are never set (listed in the body instead), so no invitation is sent.
 *
 * Never a duplicate: every create carries a transactionId derived from the target, the
 * destination and the source id (a retried POST, or a rerun after a crash between the POST and the
 * restore map, gets the same event back from Graph), and the restore map records the created
 * event only after a series' exceptions and cancellations are applied (a rerun completes them).
 * In place, an event whose original is still there (same id) is already there: `skip` leaves it,
 * `rename` adds a copy, `replace` creates the copy and then deletes the original.
 */
export class CalendarWriter implements ServiceWriter {
  readonly service = 'calendar' as const;

  async write(ctx: WriterContext, items: readonly RestoreItem[]): Promise<WriterCounts> {
    const counts = emptyCounts();
    const calendars = new CalendarResolver(ctx);
    for (const item of items) {
      const m = item.meta;
      const label = String(m.subject ?? item.sourceId);
      if (m.type !== 'event' && m.type !== 'series') continue;
      try {
        counts[await this.event(ctx, calendars, item)]++;
      } catch (e) {
        if (isStop(e)) throw e;
        countFailure(counts, label, reasonOf(e));
      }
    }
    return counts;
  }

  private async event(ctx: WriterContext, calendars: CalendarResolver, item: RestoreItem): Promise<'restored' | 'skipped' | 'renamed'> {
    const box = `/users/${ctx.targetUserId}`;
    const mapped = await ctx.map.get(item.sourceId);
    if (mapped && (await sendOr404(ctx.conn, 'GET', `${box}/events/${encodeURIComponent(mapped)}?$select=id`, 'a restored event'))) return 'skipped';
    // In place, the original (same id) may still be there.
    const original = ctx.destinationRoot === undefined ? await sendOr404(ctx.conn, 'GET', `${box}/events/${encodeURIComponent(item.sourceId)}?$select=id`, 'the original event') : undefined;
    if (original && ctx.conflict === 'skip') {
      await ctx.map.set(item.sourceId, item.sourceId);
      return 'skipped';
    }
    const stored = (await CONTENT_IN_FLIGHT.run(3 * item.size, async () => JSON.parse((item.content ? await readAll(item.content()) : Buffer.from('{}')).toString('utf8')))) as Json;
    const calendar = await calendars.of(item.meta);
    const transactionId = `m365b-${createHash('sha256').update(`${ctx.targetUserId}\0${ctx.destinationRoot ?? ''}\0${original ? ctx.conflict : ''}\0${item.sourceId}`).digest('hex').slice(0, 40)}`;
    const created = await send<{ id: string }>(ctx.conn, 'POST', `${box}/calendars/${encodeURIComponent(calendar)}/events`, `create event "${str(stored.subject)}"`, eventCreateBody(stored, transactionId));
    if (stored.type === 'seriesMaster') await this.applyOccurrences(ctx, created.id, stored);
    await ctx.map.set(item.sourceId, created.id);
    if (!original) return 'restored';
    if (ctx.conflict === 'rename') return 'renamed';
    await sendOr404(ctx.conn, 'DELETE', `${box}/events/${encodeURIComponent(item.sourceId)}`, 'delete the replaced event');
    return 'restored';
  }

  /** Exceptions and cancellations of a stored series, applied to the new series' occurrences (idempotent). */
  private async applyOccurrences(ctx: WriterContext, seriesId: string, stored: Json): Promise<void> {
    const box = `/users/${ctx.targetUserId}`;
    const duration = Math.max(0, instant(stored.end) - instant(stored.start));
    /** The new series' occurrence on the day of an original start (undefined: already cancelled). */
    const occurrenceOn = async (originalStart: number) => {
      const from = new Date(Math.floor(originalStart / DAY) * DAY).toISOString();
      const to = new Date(Math.floor(originalStart / DAY) * DAY + DAY + duration).toISOString();
      const list = await send<{ value?: Json[] }>(ctx.conn, 'GET', `${box}/events/${encodeURIComponent(seriesId)}/instances?startDateTime=${encodeURIComponent(from)}&endDateTime=${encodeURIComponent(to)}&$select=id,originalStart,type`, 'the occurrences of a restored series');
      const day = new Date(originalStart).toISOString().slice(0, 10);
      return (list.value ?? []).find((i) => (Date.parse(str(i.originalStart)) === originalStart || str(i.originalStart).slice(0, 10) === day) && typeof i.id === 'string');
    };
    for (const x of Array.isArray(stored.exceptionOccurrences) ? stored.exceptionOccurrences.map(obj) : []) {
      const originalStart = Date.parse(str(x.originalStart));
      if (Number.isNaN(originalStart)) continue;
      const occurrence = await occurrenceOn(originalStart);
      if (!occurrence) throw new Error(`the restored series has no occurrence at ${str(x.originalStart)} for its exception "${str(x.subject)}"`);
      await send(ctx.conn, 'PATCH', `${box}/events/${encodeURIComponent(String(occurrence.id))}`, `the exception "${str(x.subject)}" of a restored series`, eventCreateBody({ ...x, type: 'exception' }));
    }
    const time = instant(stored.start) % DAY;
    for (const c of Array.isArray(stored.cancelledOccurrences) ? stored.cancelledOccurrences : []) {
      const d = /\.(\d{4}-\d\d-\d\d)$/.exec(str(c));
      if (!d) continue;
      const occurrence = await occurrenceOn(Date.parse(`${d[1]}T00:00:00Z`) + time);
      if (!occurrence) continue; // cancelled already (a rerun)
      await sendOr404(ctx.conn, 'DELETE', `${box}/events/${encodeURIComponent(String(occurrence.id))}`, 'a cancelled occurrence of a restored series');
    }
  }
}

/** The target calendar of an item: by name (created if missing), the default one, or the destination's new calendar. */
class CalendarResolver {
  private list?: Calendar[];
  private readonly byName = new Map<string, string>();
  constructor(private readonly ctx: WriterContext) {}

  private async calendars(): Promise<Calendar[]> {
    const out: Calendar[] = [];
    let next: string | undefined = `/users/${this.ctx.targetUserId}/calendars?$select=id,name,isDefaultCalendar&$top=250`;
    while (next) {
      const page: { value?: Calendar[]; '@odata.nextLink'?: string } = await send(this.ctx.conn, 'GET', next, 'the calendars of the target');
      out.push(...(page.value ?? []));
      next = page['@odata.nextLink'];
    }
    return out;
  }

  async of(meta: Json): Promise<string> {
    const wantsDefault = this.ctx.destinationRoot === undefined && (meta.calendarName === undefined || meta.defaultCalendar === true);
    const name = this.ctx.destinationRoot ?? str(meta.calendarName);
    const key = wantsDefault ? '\0default' : name.toLowerCase();
    const known = this.byName.get(key);
    if (known) return known;
    this.list ??= await this.calendars();
    const find = () => (wantsDefault ? this.list!.find((c) => c.isDefaultCalendar) : this.list!.find((c) => c.name.toLowerCase() === key));
    let id = find()?.id;
    if (!id && !wantsDefault) {
      try {
        const c = await send<Calendar>(this.ctx.conn, 'POST', `/users/${this.ctx.targetUserId}/calendars`, `create calendar "${name}"`, { name });
        this.list.push(c);
        id = c.id;
      } catch (e) {
        if (statusOf(e) !== 409) throw e;
        this.list = await this.calendars();
        id = find()?.id;
      }
    }
    if (!id) throw new Error(wantsDefault ? 'the target has no default calendar' : `calendar "${name}" could not be created`);
    this.byName.set(key, id);
    return id;
  }
}
