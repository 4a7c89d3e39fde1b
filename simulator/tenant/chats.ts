/** One-on-one, group and meeting chats of a simulated tenant: members, messages (edits, deletions) and hosted contents. */
import type { SimTenant } from './model';
import { newMessageBody } from './teams';

export interface SimChatMember {
  /** The member's user id (a user of the tenant). */
  userId: string;
  displayName: string;
  email: string;
}

export interface SimChatLine {
  id: string;
  from: { id: string; displayName: string };
  html: string;
  created: string;
  lastModified: string;
  lastEdited: string | null;
  /** Set when deleted: Graph keeps the message, without its body, with deletedDateTime. */
  deleted: string | null;
  etag: number;
  hosted: Map<string, { contentType: string; data: Buffer }>;
}

export interface SimChat {
  id: string;
  chatType: 'oneOnOne' | 'group' | 'meeting';
  topic: string | null;
  created: string;
  /** As Graph: moves when the chat is renamed or its members change, not with its messages. */
  lastUpdated: string;
  members: SimChatMember[];
  messages: Map<string, SimChatLine>;
}

export interface SimChats {
  chats: Map<string, SimChat>;
  /** Users whose chats Graph refuses (403: the app lacks Chat.Read.All or its approval). */
  denied: Set<string>;
  /** Messages the routes have returned in message listings (what an incremental backup is measured by). */
  served: number;
}

const stores = new WeakMap<SimTenant, SimChats>();

export function chatsOf(t: SimTenant): SimChats {
  let s = stores.get(t);
  if (!s) stores.set(t, (s = { chats: new Map(), denied: new Set(), served: 0 }));
  return s;
}

/** Marker in a message's HTML where a hosted content's URL goes (the route layer fills in the origin). */
export const CHAT_HOSTED_SRC = (id: string) => `{{chathosted:${id}}}`;

export class ChatEditor {
  private seq = 0;
  constructor(readonly tenant: SimTenant) {}

  /** A chat between tenant users (by UPN or id); one-on-one when two and no topic is given. */
  addChat(o: { members: string[]; topic?: string; chatType?: SimChat['chatType']; created?: string }): SimChat {
    const members = o.members.map((ref) => {
      const u = this.tenant.user(ref).user;
      return { userId: u.id, displayName: u.displayName, email: u.mail ?? u.userPrincipalName };
    });
    const chatType = o.chatType ?? (members.length === 2 && !o.topic ? 'oneOnOne' : 'group');
    const created = o.created ?? new Date(Date.UTC(2026, 3, 1)).toISOString();
    const id = chatType === 'oneOnOne' ? `19:${members.map((m) => m.userId).sort().join('_')}@unq.gbl.spaces` : `19:${this.tenant.newId().replace(/-/g, '')}@thread.v2`;
    const chat: SimChat = { id, chatType, topic: o.topic ?? null, created, lastUpdated: created, members, messages: new Map() };
    chatsOf(this.tenant).chats.set(id, chat);
    return chat;
  }

  /** A message from a member; `images` become hosted contents shown inline. */
  post(chat: SimChat, o: { from: string; html: string; created?: string; images?: Buffer[] }): SimChatLine {
    const u = this.tenant.user(o.from).user;
    const created = o.created ?? new Date().toISOString();
    const { id, html, hosted } = newMessageBody(this.tenant, { created, seq: ++this.seq, html: o.html, images: o.images, src: CHAT_HOSTED_SRC });
    const m: SimChatLine = { id, from: { id: u.id, displayName: u.displayName }, html, created, lastModified: created, lastEdited: null, deleted: null, etag: this.tenant.stamp(), hosted };
    chat.messages.set(id, m);
    return m;
  }

  edit(chat: SimChat, id: string, html: string): SimChatLine {
    const m = chat.messages.get(id)!;
    m.html = html;
    m.lastModified = m.lastEdited = new Date().toISOString();
    m.etag = this.tenant.stamp();
    return m;
  }

  delete(chat: SimChat, id: string): void {
    const m = chat.messages.get(id)!;
    m.deleted = m.lastModified = new Date().toISOString();
    m.html = '';
    m.hosted.clear();
    m.etag = this.tenant.stamp();
  }

  rename(chat: SimChat, topic: string): void {
    chat.topic = topic;
    chat.lastUpdated = new Date().toISOString();
  }
}
