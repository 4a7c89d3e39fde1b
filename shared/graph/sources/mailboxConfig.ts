import { createHash } from 'node:crypto';
import type { GraphConnection } from '../connection';
import { getJson, isGraphReadFailure } from '../requests';
import { batchGet } from './batchGet';
import { isObject, type ServiceSource, type SourceChange, type SourceContext } from './types';

/** The scope of the mailbox configuration items (part of the `mail` service). */
export const CONFIG_SCOPE = 'config';

/** What is read, and the name of the item (and of the restored `_<name>.json` file). */
const PARTS = [
  { name: 'mailboxSettings', path: 'mailboxSettings' },
  { name: 'messageRules', path: 'mailFolders/inbox/messageRules' },
  { name: 'masterCategories', path: 'outlook/masterCategories' },
] as const;

/** Drops OData annotations (@odata.context…), which name the endpoint and change with nothing. */
function clean(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clean);
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('@odata.')).map(([k, x]) => [k, clean(x)]));
}

/**
 * Mailbox configuration worth restoring, stored with the mail service (it belongs to the mailbox,
 * needs Mail/MailboxSettings read roles, and a restore of a mailbox wants it beside the mail):
 * mailboxSettings (automatic replies, time zone, language, working hours, userPurpose), the inbox
 * rules and the master category list. Graph offers no change marker or delta for any of them: the
 * three are read every run in one JSON batch (one round trip) and each is versioned by a hash of its
 * JSON, so an unchanged configuration stores nothing (the scope is a full listing with a digest).
 */
export class MailboxConfigSource implements ServiceSource {
  readonly service = 'mail' as const;
  constructor(private readonly ctx: SourceContext) {}

  private async read(conn: GraphConnection, userId: string): Promise<Map<string, unknown>> {
    const urls = PARTS.map((p) => `/users/${userId}/${p.path}`);
    const answered = await batchGet(conn, urls);
    const out = new Map<string, unknown>();
    // A part the batch did not answer is read on its own.
    for (const [i, p] of PARTS.entries()) out.set(p.name, answered.get(urls[i]!) ?? (await getJson<unknown>(conn, urls[i]!, `${p.name} of user ${userId}`)));
    return out;
  }

  async *changes(): AsyncIterable<SourceChange> {
    const { conn, userId } = this.ctx;
    let parts: Map<string, unknown>;
    try {
      parts = await this.read(conn, userId);
    } catch (e) {
      if (isGraphReadFailure(e)) {
        yield { kind: 'scopeFailed', scope: CONFIG_SCOPE, reason: e.message };
        return;
      }
      throw e;
    }
    for (const [name, body] of parts) {
      const value = clean(isObject(body) && Array.isArray(body.value) && name !== 'mailboxSettings' ? body.value : body);
      const data = Buffer.from(JSON.stringify(value, null, 2));
      const version = createHash('sha256').update(data).digest('base64');
      yield { kind: 'item', id: `config:${name}`, scope: CONFIG_SCOPE, version, meta: { type: 'config', name }, content: async () => ({ data }) };
    }
    yield { kind: 'scopeComplete', scope: CONFIG_SCOPE, full: true };
  }
}

/** One service read from several sources in turn (mail: the messages, then the mailbox configuration). */
export function concatSources(first: ServiceSource, ...rest: ServiceSource[]): ServiceSource {
  return {
    service: first.service,
    async *changes(cursors) {
      for (const s of [first, ...rest]) yield* s.changes(cursors);
    },
  };
}
