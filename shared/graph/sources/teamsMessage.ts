import type { GraphConnection } from '../connection';
import { getBytes } from '../requests';
import { isObject, type SourceChange } from './types';

/**
 * A Teams message (a channel's or a chat's: the same chatMessage resource) as source items: the
 * message as JSON with its body in the metadata (transcripts are made from it), and each hosted
 * content (inline image) as an item of its own. A deleted message ends its stored version.
 */
export type TeamsMessage = Record<string, unknown> & { id: string };

/** A body kept in the metadata up to this size; the full JSON is the content. */
const BODY_IN_META = 64 * 1024;
const HOSTED = /hostedContents\/([^/"'?]+)\/\$value/g;

export interface TeamsMessageItems {
  conn: GraphConnection;
  scope: string;
  id: string;
  message: TeamsMessage;
  /** Where the message is (channelId or chatId) and the kind's own fields, first in the metadata. */
  where: Record<string, unknown>;
  extra?: Record<string, unknown>;
  hostedItemId: (hostedId: string) => string;
  /** The message's Graph path: its hosted contents are under it. */
  path: string;
}

export function* teamsMessageItems(o: TeamsMessageItems): Generator<SourceChange> {
  const m = o.message;
  if (m.deletedDateTime || m['@removed']) {
    yield { kind: 'removed', id: o.id, scope: o.scope };
    return;
  }
  const body = isObject(m.body) ? m.body : {};
  const html = typeof body.content === 'string' ? body.content : '';
  const hosted = [...new Set([...html.matchAll(HOSTED)].map((x) => x[1]!))];
  const from = isObject(m.from) ? (isObject(m.from.user) ? m.from.user : isObject(m.from.application) ? m.from.application : {}) : {};
  const data = Buffer.from(JSON.stringify(m));
  yield {
    kind: 'item',
    id: o.id,
    scope: o.scope,
    version: String(m.etag ?? m.lastModifiedDateTime ?? ''),
    meta: {
      type: 'message',
      ...o.where,
      messageId: m.id,
      ...o.extra,
      from: { id: from.id ?? null, displayName: from.displayName ?? null },
      created: m.createdDateTime ?? null,
      modified: m.lastModifiedDateTime ?? null,
      edited: m.lastEditedDateTime ?? null,
      contentType: body.contentType ?? 'html',
      body: html.length <= BODY_IN_META ? html : `${html.slice(0, BODY_IN_META)}…`,
      hosted,
    },
    content: async () => ({ data }),
  };
  for (const h of hosted)
    yield {
      kind: 'item',
      id: o.hostedItemId(h),
      scope: o.scope,
      version: h, // a hosted content never changes: an edit that changes an image gives it a new id
      meta: { type: 'hostedContent', ...o.where, messageId: m.id, hostedId: h },
      content: async () => ({ data: await getBytes(o.conn, `${o.path}/hostedContents/${h}/$value`, `a hosted content of message ${m.id}`) }),
    };
}
