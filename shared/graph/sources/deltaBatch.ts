import type { GraphConnection } from '../connection';
import { batchGet } from './batchGet';
import { readDeltaScope } from './deltaScope';
import { isObject, type SourceChange } from './types';

/** One delta feed of a source: what `readDeltaScope` takes. */
export interface DeltaScopeSpec {
  scope: string;
  initialUrl: string;
  cursor?: string;
  what: string;
  headers: Record<string, string>;
  convert: (raw: unknown) => SourceChange;
}

/** A delta link as a batch request's URL: relative to the Graph endpoint (a batch refuses absolute URLs). */
function relativeUrl(conn: GraphConnection, link: string): string | undefined {
  const base = conn.endpoints.graphBaseUrl.replace(/\/$/, '');
  if (link.startsWith(`${base}/`)) return link.slice(base.length);
  return link.startsWith('/') ? link : undefined;
}

/**
 * Reads several delta feeds of one user, in order. Feeds with a cursor have their first page asked
 * in JSON batches (up to 20 a round trip), so an unchanged mailbox costs one round trip for all its
 * folders instead of one per folder; each request inside a batch is counted against the mailbox's
 * budget as Graph does. A feed whose batched answer is not a page (missing, throttled, refused
 * token, gone, any error) is read on its own by readDeltaScope, which handles every such case; a
 * page with a next link continues there too.
 */
export async function* readDeltaScopes(conn: GraphConnection, specs: DeltaScopeSpec[]): AsyncGenerator<SourceChange> {
  const first = new Map<string, Record<string, unknown>>();
  const batchable = specs.filter((s) => s.cursor && relativeUrl(conn, s.cursor));
  const bySpec = new Map(batchable.map((s) => [relativeUrl(conn, s.cursor!)!, s]));
  const pages = await batchGet(conn, [...bySpec.keys()], (url) => bySpec.get(url)!.headers);
  for (const [url, body] of pages) if (Array.isArray(body.value)) first.set(bySpec.get(url)!.scope, body);
  for (const s of specs) {
    const body = first.get(s.scope);
    if (!body) {
      yield* readDeltaScope(conn, s.scope, s.initialUrl, s.cursor, s.what, s.headers, s.convert);
      continue;
    }
    for (const raw of body.value as unknown[]) yield s.convert(raw);
    const deltaLink = body['@odata.deltaLink'];
    const nextLink = body['@odata.nextLink'];
    if (typeof deltaLink === 'string') yield { kind: 'scopeComplete', scope: s.scope, full: false, cursor: deltaLink };
    else if (typeof nextLink === 'string') {
      yield { kind: 'page', scope: s.scope, full: false, nextLink };
      yield* readDeltaScope(conn, s.scope, s.initialUrl, nextLink, s.what, s.headers, s.convert);
    } else yield { kind: 'scopeFailed', scope: s.scope, reason: `${s.what}: the feed ended without a delta link` };
  }
}
