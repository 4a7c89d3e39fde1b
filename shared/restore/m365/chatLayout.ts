import type { ItemVersion } from '../../repo';
import { channelTranscript, type TranscriptMessage } from './channelTranscript';
import type { PlannedDocument } from './scopeLayout';
import { layoutTree, type TreeEntry } from './treeLayout';

type Meta = Record<string, unknown> & { type?: string; id?: string };
const str = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
const dateOf = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** A chat's folder name: its topic, else its members' names (a one-on-one chat has no topic). */
export function chatFolderName(chat: Meta): string {
  const topic = str(chat.topic).trim();
  if (topic) return topic;
  const names = (Array.isArray(chat.members) ? (chat.members as { displayName?: unknown; email?: unknown }[]) : []).map((m) => str(m.displayName) || str(m.email)).filter(Boolean).sort();
  return names.length > 0 ? names.join(', ') : str(chat.chatId);
}

/**
 * A user's chats under Chats/: <topic or member names>/transcript.html (the Teams transcript
 * writer: every text HTML-escaped), <chat>/messages/<id>.json (Graph's JSON as backed up), and
 * <chat>/images/<message>-<n>.png (the inline images the message shows at this point in time).
 */
export function layoutChats(versions: ItemVersion[]): { folders: string[]; files: { path: string; chunks: string; mtime?: string }[]; documents: PlannedDocument[] } {
  const metas = versions.map((v) => v.meta as Meta);
  const chats = metas.filter((m) => m.type === 'chat');
  const messages = new Map<string, Meta>();
  for (const m of metas) if (m.type === 'message') messages.set(`${str(m.chatId)}:${str(m.messageId)}`, m);
  const entries: { e: TreeEntry; chunks?: string; mtime?: string }[] = [];
  const imagesOf = new Map<string, string[]>();
  for (const c of chats) {
    const cid = str(c.chatId);
    entries.push({ e: { id: `chat:${cid}`, parentId: null, name: chatFolderName(c), folder: true } });
    entries.push({ e: { id: `messages:${cid}`, parentId: `chat:${cid}`, name: 'messages', folder: true } });
    entries.push({ e: { id: `images:${cid}`, parentId: `chat:${cid}`, name: 'images', folder: true } });
  }
  for (const v of versions) {
    const m = v.meta as Meta;
    const cid = str(m.chatId);
    if (m.type === 'message') entries.push({ e: { id: str(m.id), parentId: `messages:${cid}`, name: `${str(m.messageId)}.json`, folder: false }, chunks: v.chunkIds.toString('base64'), mtime: dateOf(m.modified) });
    else if (m.type === 'hostedContent') {
      const key = `${cid}:${str(m.messageId)}`;
      const msg = messages.get(key);
      const index = Array.isArray(msg?.hosted) ? (msg.hosted as string[]).indexOf(str(m.hostedId)) : -1;
      if (index < 0) continue; // an image of a message deleted or edited since
      entries.push({ e: { id: str(m.id), parentId: `images:${cid}`, name: `${str(m.messageId)}-${index + 1}.png`, folder: false }, chunks: v.chunkIds.toString('base64'), mtime: dateOf(msg?.created) });
      imagesOf.set(key, [...(imagesOf.get(key) ?? []), str(m.id)]);
    }
  }
  const transcripts = chats.map((c) => ({ c, e: { id: `transcript:${str(c.chatId)}`, parentId: `chat:${str(c.chatId)}`, name: 'transcript.html', folder: false } }));
  const placed = layoutTree([...entries.map((x) => x.e), ...transcripts.map((t) => t.e)], ['_items.json']);
  const byId = new Map<string, string>();
  for (const [e, p] of placed) byId.set(e.id, p);
  const out = { folders: [] as string[], files: [] as { path: string; chunks: string; mtime?: string }[], documents: [] as PlannedDocument[] };
  for (const x of entries) {
    const path = placed.get(x.e)!;
    if (x.e.folder) out.folders.push(path);
    else if (x.chunks !== undefined) out.files.push({ path, chunks: x.chunks, ...(x.mtime ? { mtime: x.mtime } : {}) });
  }
  for (const { c, e } of transcripts) {
    const cid = str(c.chatId);
    const base = byId.get(`chat:${cid}`) ?? '';
    const list: TranscriptMessage[] = [...messages.values()]
      .filter((m) => str(m.chatId) === cid)
      .map((m) => {
        const from = (m.from ?? {}) as { displayName?: string | null; id?: string | null };
        const images = (imagesOf.get(`${cid}:${str(m.messageId)}`) ?? []).map((id) => byId.get(id) ?? '').filter((p) => p.startsWith(base)).map((p) => p.slice(base.length)).sort();
        return { id: str(m.messageId), replyToId: null, author: from.displayName ?? from.id ?? 'unknown', created: str(m.created), edited: m.edited ? str(m.edited) : null, subject: null, body: str(m.body), images };
      });
    out.documents.push({ path: placed.get(e)!, text: channelTranscript('Chat', chatFolderName(c), list) });
  }
  return out;
}
