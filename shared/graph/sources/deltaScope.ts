import { isGraphReadFailure, pages } from '../requests';
import type { GraphConnection } from '../connection';
import type { SourceChange } from './types';

/**
 * Reads one delta feed (one scope) to its delta link: from the cursor if there is one, else a
 * full listing. A refused token (410, syncStateNotFound, resyncRequired) restarts the scope as a
 * full listing once; a scope that disappeared (404) is reported gone.
 */
export async function* readDeltaScope(
  conn: GraphConnection,
  scope: string,
  initialUrl: string,
  cursor: string | undefined,
  what: string,
  headers: Record<string, string>,
  convert: (raw: unknown) => SourceChange,
): AsyncGenerator<SourceChange> {
  let url = cursor ?? initialUrl;
  let full = !cursor;
  for (let resynced = false; ; resynced = true) {
    try {
      for await (const page of pages<unknown>(conn, url, what, headers)) {
        for (const raw of page.value) yield convert(raw);
        if (page.deltaLink) {
          yield { kind: 'scopeComplete', scope, full, cursor: page.deltaLink };
          return;
        }
        if (page.nextLink) yield { kind: 'page', scope, full, nextLink: page.nextLink };
      }
      yield { kind: 'scopeFailed', scope, reason: `${what}: the feed ended without a delta link` };
      return;
    } catch (e) {
      if (isGraphReadFailure(e) && e.code === 'RESYNC_REQUIRED' && !resynced) {
        yield { kind: 'resync', scope };
        url = initialUrl;
        full = true;
        continue;
      }
      if (isGraphReadFailure(e) && e.code === 'NOT_FOUND') {
        yield { kind: 'scopeGone', scope };
        return;
      }
      if (isGraphReadFailure(e)) {
        yield { kind: 'scopeFailed', scope, reason: e.message };
        return;
      }
      throw e;
    }
  }
}
