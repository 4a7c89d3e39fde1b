import type { Stamped, Tombstone } from '../tenant/model';
import { graphError, json, type SimRequest, type SimResponse } from './http';

export interface DeltaCollection<T extends Stamped> {
  live: T[];
  tombstones: Tombstone[];
  render(e: T): unknown;
  removed(id: string): unknown;
  defaultPageSize: number;
  maxPageSize: number;
  /** Tokens issued before this counter value are expired (410). */
  floor: number;
  /** Error code of an expired token: Outlook says syncStateNotFound, OneDrive resyncRequired. */
  expiredCode: 'syncStateNotFound' | 'resyncRequired';
}

interface SkipState {
  s: number;
  u: number;
  a: string;
  n: number;
}

/** The requested page size: `Prefer: odata.maxpagesize=N` (Outlook) or `$top` (OneDrive, users). */
export function pageSize(req: SimRequest, def: number, max: number): { size: number; applied?: string } {
  const prefer = /odata\.maxpagesize=(\d+)/.exec(req.headers.prefer ?? '');
  if (prefer) {
    const size = Math.max(1, Math.min(max, Number(prefer[1])));
    return { size, applied: `odata.maxpagesize=${size}` };
  }
  const top = req.url.searchParams.get('$top');
  return { size: top ? Math.max(1, Math.min(max, Number(top))) : def };
}

/**
 * One page of a delta feed. Tokens are counter values: a delta link carries "changes after v", a
 * next link carries the range being listed and the last id returned (keyset paging, so changes made
 * while paging never shift an unchanged item out of the listing; they show up in the next delta).
 */
export function deltaPage<T extends Stamped>(req: SimRequest, origin: string, now: number, c: DeltaCollection<T>): SimResponse {
  const q = req.url.searchParams;
  let state: SkipState;
  try {
    const skip = q.get('$skiptoken');
    const delta = q.get('$deltatoken');
    if (skip) state = JSON.parse(Buffer.from(skip, 'base64url').toString('utf8')) as SkipState;
    else state = { s: delta ? Number(delta) : 0, u: now, a: '', n: pageSize(req, c.defaultPageSize, c.maxPageSize).size };
    if (!Number.isInteger(state.s) || !Number.isInteger(state.u)) throw new Error('bad token');
  } catch {
    return graphError(400, 'badRequest', 'The delta or skip token is malformed.');
  }
  if ((q.has('$deltatoken') || q.has('$skiptoken')) && state.s > 0 && state.s < c.floor) {
    const restart = new URL(req.url.pathname, origin);
    for (const [k, v] of q) if (k !== '$deltatoken' && k !== '$skiptoken') restart.searchParams.set(k, v);
    return graphError(410, c.expiredCode, 'The sync state generation is not found or has expired; a full resynchronisation is required.', { Location: restart.toString() });
  }
  const inRange = (v: number) => v > state.s && v <= state.u;
  const liveIds = new Set(c.live.map((e) => e.id));
  type Entry = { id: string; body: () => unknown };
  const entries: Entry[] = [];
  for (const e of c.live) if (inRange(e.version)) entries.push({ id: e.id, body: () => c.render(e) });
  if (state.s > 0)
    for (const t of c.tombstones) if (inRange(t.version) && !liveIds.has(t.id)) entries.push({ id: t.id, body: () => c.removed(t.id) });
  const seen = new Set<string>();
  const sorted = entries.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true))).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rest = sorted.filter((e) => e.id > state.a);
  const page = rest.slice(0, state.n);
  const link = new URL(req.url.pathname, origin);
  for (const [k, v] of q) if (k !== '$deltatoken' && k !== '$skiptoken' && k !== '$top') link.searchParams.set(k, v);
  const body: Record<string, unknown> = { '@odata.context': `${origin}/v1.0/$metadata#Collection`, value: page.map((e) => e.body()) };
  if (rest.length > page.length) {
    link.searchParams.set('$skiptoken', Buffer.from(JSON.stringify({ ...state, a: page.at(-1)!.id })).toString('base64url'));
    body['@odata.nextLink'] = link.toString();
  } else {
    link.searchParams.set('$deltatoken', String(state.u));
    body['@odata.deltaLink'] = link.toString();
  }
  const applied = /odata\.maxpagesize=(\d+)/.test(req.headers.prefer ?? '') ? { 'Preference-Applied': `odata.maxpagesize=${state.n}` } : undefined;
  return json(200, body, applied);
}

/** A plain (non-delta) collection page with `$top` / `$skiptoken` offsets, as /users and folder lists page. */
export function listPage(req: SimRequest, origin: string, all: unknown[], def: number, max: number): SimResponse {
  const { size } = pageSize(req, def, max);
  const offset = Number(req.url.searchParams.get('$skiptoken') ?? 0) || 0;
  const page = all.slice(offset, offset + size);
  const body: Record<string, unknown> = { value: page };
  if (offset + size < all.length) {
    const link = new URL(req.url.pathname, origin);
    for (const [k, v] of req.url.searchParams) if (k !== '$skiptoken') link.searchParams.set(k, v);
    link.searchParams.set('$skiptoken', String(offset + size));
    body['@odata.nextLink'] = link.toString();
  }
  return json(200, body);
}
