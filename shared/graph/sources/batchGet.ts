import type { GraphConnection } from '../connection';
import { mailboxOf } from '../gates';
import { isObject } from './types';

/** Graph's limit of requests in one JSON batch. */
const BATCH_MAX = 20;

interface BatchAnswer {
  responses?: { id: string; status: number; body?: unknown }[];
}

/**
 * GETs of several relative URLs in JSON batches (up to 20 a round trip), each counted against its
 * mailbox's budget as Graph does. Returns the 200 bodies by URL; a URL missing from the result was
 * not answered with a page (any status, a failed batch): the caller reads it on its own, which
 * handles every such case. A single URL is not batched (a plain GET costs the same round trip).
 */
export async function batchGet(conn: GraphConnection, urls: string[], headers?: (url: string) => Record<string, string>): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  if (urls.length < 2) return out;
  for (let i = 0; i < urls.length; i += BATCH_MAX) {
    const group = urls.slice(i, i + BATCH_MAX);
    const requests = group.map((url, j) => ({ id: String(j), method: 'GET', url, ...(headers ? { headers: headers(url) } : {}) }));
    for (const r of requests) conn.gates.count(mailboxOf(conn.url(r.url)));
    let answer: BatchAnswer = {};
    try {
      answer = (await conn.client.api(conn.url('/$batch')).post({ requests })) as BatchAnswer;
    } catch {
      answer = {};
    }
    for (const r of answer.responses ?? []) {
      const url = group[Number(r.id)];
      if (url !== undefined && r.status === 200 && isObject(r.body)) out.set(url, r.body);
    }
  }
  return out;
}
