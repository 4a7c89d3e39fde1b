/** Teams of a simulated tenant: channels (standard, private, shared), messages, replies and hosted contents. */
import type { SimTenant, Stamped } from './model';
import { scopesOf } from './sites';

export interface SimChatMessage extends Stamped {
  channelId: string;
  /** The root message's id for a reply; null for a root message. */
  replyToId: string | null;
  from: { id: string; displayName: string };
  subject: string | null;
  html: string;
  created: string;
  lastModified: string;
  /** Set when deleted: Graph keeps the message, without its body, with deletedDateTime. */
  deleted: string | null;
  hosted: Map<string, { contentType: string; data: Buffer }>;
}

export interface SimChannel {
  id: string;
  displayName: string;
  membershipType: 'standard' | 'private' | 'shared';
  created: string;
  messages: Map<string, SimChatMessage>;
}

export interface SimTeam {
  /** The team's group id. */
  id: string;
  displayName: string;
  denied: boolean;
  channels: Map<string, SimChannel>;
}

/** Marker in a message's HTML where a hosted content's URL goes (the route layer fills in the origin). */
export const HOSTED_SRC = (id: string) => `{{hosted:${id}}}`;

/**
 * A new message's id and body, as channel and chat messages both get them: Graph's ids are the
 * creation time in ms (`seq`, a counter, keeps them unique here), and each image becomes a hosted
 * content shown inline through `src` (the placeholder the routes turn into its URL).
 */
export function newMessageBody(tenant: SimTenant, o: { created: string; seq: number; html: string; images?: Buffer[]; src: (hostedId: string) => string }): { id: string; html: string; hosted: Map<string, { contentType: string; data: Buffer }> } {
  const id = String(Date.parse(o.created) * 1000 + (o.seq % 1000));
  const hosted = new Map<string, { contentType: string; data: Buffer }>();
  let html = o.html;
  for (const data of o.images ?? []) {
    const hid = Buffer.from(`id=${tenant.newId()},type=1`).toString('base64url');
    hosted.set(hid, { contentType: 'image/png', data });
    html += `<img src="${o.src(hid)}" alt="image">`;
  }
  return { id, html, hosted };
}

export class TeamEditor {
  private seq = 0;
  constructor(readonly tenant: SimTenant) {}

  addTeam(o: { id: string; displayName: string; denied?: boolean }): SimTeam {
    const team: SimTeam = { id: o.id, displayName: o.displayName, denied: o.denied ?? false, channels: new Map() };
    scopesOf(this.tenant).teams.set(team.id, team);
    this.addChannel(team, 'General', 'standard');
    return team;
  }

  team(idOrName: string): SimTeam {
    for (const t of scopesOf(this.tenant).teams.values()) if (t.id === idOrName || t.displayName === idOrName) return t;
    throw new Error(`simulator: no team ${idOrName}`);
  }

  addChannel(team: SimTeam, displayName: string, membershipType: SimChannel['membershipType']): SimChannel {
    const c: SimChannel = { id: `19:${this.tenant.newId().replace(/-/g, '')}@thread.tacv2`, displayName, membershipType, created: new Date(0).toISOString(), messages: new Map() };
    team.channels.set(c.id, c);
    return c;
  }

  channel(team: SimTeam, displayName: string): SimChannel {
    const c = [...team.channels.values()].find((x) => x.displayName === displayName);
    if (!c) throw new Error(`simulator: no channel ${displayName}`);
    return c;
  }

  /** A root message (replyTo undefined) or a reply; `images` become hosted contents shown inline. */
  post(channel: SimChannel, o: { from: { id: string; displayName: string }; html: string; replyTo?: string; subject?: string; created?: string; images?: Buffer[] }): SimChatMessage {
    const created = o.created ?? new Date().toISOString();
    const { id, html, hosted } = newMessageBody(this.tenant, { created, seq: ++this.seq, html: o.html, images: o.images, src: HOSTED_SRC });
    const m: SimChatMessage = { id, channelId: channel.id, replyToId: o.replyTo ?? null, from: o.from, subject: o.subject ?? null, html, created, lastModified: created, deleted: null, hosted, version: this.tenant.stamp() };
    channel.messages.set(id, m);
    this.touchRoot(channel, m);
    return m;
  }

  edit(channel: SimChannel, id: string, html: string): SimChatMessage {
    const m = channel.messages.get(id)!;
    m.html = html;
    m.lastModified = new Date().toISOString();
    m.version = this.tenant.stamp();
    this.touchRoot(channel, m);
    return m;
  }

  delete(channel: SimChannel, id: string): void {
    const m = channel.messages.get(id)!;
    m.deleted = new Date().toISOString();
    m.lastModified = m.deleted;
    m.html = '';
    m.version = this.tenant.stamp();
    this.touchRoot(channel, m);
  }

  /** A reply's change shows in the channel's message delta as a change of its root (what the backup relies on). */
  private touchRoot(channel: SimChannel, m: SimChatMessage): void {
    if (!m.replyToId) return;
    const root = channel.messages.get(m.replyToId);
    if (root) root.version = this.tenant.stamp();
  }
}
