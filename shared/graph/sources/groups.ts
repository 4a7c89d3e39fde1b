import { scopeOf } from '../../m365/scopes';
import { isGraphReadFailure, listAll } from '../requests';
import { postToMime } from './postMime';
import { isObject, type ServiceSource, type SourceChange, type SourceContext } from './types';

export const THREADS_SCOPE = 'threads';
export const postsScope = (threadId: string) => `posts:${threadId}`;

interface Thread {
  id: string;
  topic?: string;
  lastDeliveredDateTime?: string;
}

/**
 * A Microsoft 365 group's conversations: the thread list (read in full each run), and the posts of
 * each thread whose lastDeliveredDateTime moved since the last run (Graph has no delta for
 * conversations; the thread's last delivery time is the cursor of its posts, so an unchanged
 * thread costs nothing beyond its line in the listing). Each post is stored as an .eml built from
 * its JSON and attachments (postMime.ts). The group's files are its site's libraries (sharepoint).
 */
export class GroupsSource implements ServiceSource {
  readonly service = 'groups' as const;
  constructor(private readonly ctx: SourceContext) {}

  async *changes(cursors: Record<string, string>): AsyncIterable<SourceChange> {
    const { conn } = this.ctx;
    const groupId = scopeOf(this.ctx.userId)?.id ?? this.ctx.userId;
    let threads: Thread[];
    try {
      threads = await listAll<Thread>(conn, `/groups/${groupId}/threads?$top=50`, `the conversations of group ${groupId}`);
    } catch (e) {
      if (!isGraphReadFailure(e)) throw e;
      yield { kind: 'scopeFailed', scope: THREADS_SCOPE, reason: e.message };
      return;
    }
    for (const t of threads)
      yield { kind: 'item', id: `thread:${t.id}`, scope: THREADS_SCOPE, version: String(t.lastDeliveredDateTime ?? ''), meta: { type: 'thread', threadId: t.id, topic: t.topic ?? '', lastDeliveredDateTime: t.lastDeliveredDateTime ?? null } };
    yield { kind: 'scopeComplete', scope: THREADS_SCOPE, full: true };
    const live = new Set(threads.map((t) => postsScope(t.id)));
    for (const scope of Object.keys(cursors)) if (!live.has(scope)) yield { kind: 'scopeGone', scope };

    for (const t of threads) {
      const scope = postsScope(t.id);
      const delivered = String(t.lastDeliveredDateTime ?? '');
      if (delivered !== '' && cursors[scope] === delivered) continue; // nothing new in this thread
      let posts: Record<string, unknown>[];
      try {
        posts = await listAll<Record<string, unknown>>(conn, `/groups/${groupId}/threads/${t.id}/posts?$top=50`, `the posts of thread ${t.id}`);
      } catch (e) {
        if (!isGraphReadFailure(e)) throw e;
        yield { kind: 'scopeFailed', scope, reason: e.message };
        continue;
      }
      for (const p of posts) {
        if (typeof p.id !== 'string') {
          yield { kind: 'failed', id: '?', scope, reason: 'a post without an id' };
          continue;
        }
        const postId = p.id;
        const from = isObject(p.from) && isObject(p.from.emailAddress) ? { name: p.from.emailAddress.name ?? null, address: p.from.emailAddress.address ?? null } : null;
        yield {
          kind: 'item',
          id: `post:${postId}`,
          scope,
          version: String(p.changeKey ?? p['@odata.etag'] ?? p.lastModifiedDateTime ?? ''),
          meta: { type: 'post', threadId: t.id, postId, topic: t.topic ?? '', from, receivedDateTime: p.receivedDateTime ?? null, hasAttachments: p.hasAttachments === true },
          content: async () => {
            const attachments = p.hasAttachments === true ? await listAll<Record<string, unknown>>(conn, `/groups/${groupId}/threads/${t.id}/posts/${postId}/attachments`, `the attachments of post ${postId}`) : [];
            return { data: postToMime(p, t.topic ?? '', attachments) };
          },
        };
      }
      yield { kind: 'scopeComplete', scope, full: true, ...(delivered ? { cursor: delivered } : {}) };
    }
  }
}
