/** Microsoft 365 groups of a simulated tenant and their mailbox conversations (threads and posts). */
import type { SimTenant, Stamped } from './model';
import { scopesOf } from './sites';

export interface SimPostAttachment {
  id: string;
  name: string;
  contentType: string;
  data: Buffer;
}

export interface SimPost extends Stamped {
  from: { name: string; address: string };
  receivedDateTime: string;
  bodyHtml: string;
  attachments: SimPostAttachment[];
}

export interface SimThread extends Stamped {
  topic: string;
  lastDeliveredDateTime: string;
  posts: Map<string, SimPost>;
}

export interface SimGroup {
  id: string;
  displayName: string;
  mail: string;
  /** A team's group: teams are listed by /teams as well. */
  isTeam: boolean;
  denied: boolean;
  threads: Map<string, SimThread>;
}

export class GroupEditor {
  constructor(readonly tenant: SimTenant) {}

  addGroup(o: { displayName: string; mailNickname: string; isTeam?: boolean; denied?: boolean; id?: string }): SimGroup {
    const g: SimGroup = { id: o.id ?? this.tenant.newId(), displayName: o.displayName, mail: `${o.mailNickname}@${this.tenant.domain}`, isTeam: o.isTeam ?? false, denied: o.denied ?? false, threads: new Map() };
    scopesOf(this.tenant).groups.set(g.id, g);
    return g;
  }

  group(idOrMail: string): SimGroup {
    for (const g of scopesOf(this.tenant).groups.values()) if (g.id === idOrMail || g.mail === idOrMail || g.displayName === idOrMail) return g;
    throw new Error(`simulator: no group ${idOrMail}`);
  }

  /** Starts a conversation: a thread with its first post. */
  addThread(g: SimGroup, topic: string, post: Omit<SimPost, 'id' | 'version'>): SimThread {
    const t: SimThread = { id: this.tenant.newId(), topic, lastDeliveredDateTime: post.receivedDateTime, posts: new Map(), version: this.tenant.stamp() };
    g.threads.set(t.id, t);
    this.reply(t, post);
    return t;
  }

  reply(t: SimThread, post: Omit<SimPost, 'id' | 'version'>): SimPost {
    const p: SimPost = { ...post, id: this.tenant.newId(), version: this.tenant.stamp() };
    t.posts.set(p.id, p);
    t.lastDeliveredDateTime = post.receivedDateTime;
    t.version = this.tenant.stamp();
    return p;
  }

  deleteThread(g: SimGroup, threadId: string): void {
    g.threads.delete(threadId);
  }
}
