import type { GraphConnection } from './connection';
import { mailboxOf } from './gates';
import { getJson, isGraphReadFailure, listAll, pages } from './requests';

export interface GraphUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  /** false for shared, room and equipment mailboxes (their accounts are disabled by design). */
  accountEnabled?: boolean;
}

export interface UserServices {
  drive: boolean;
  mailbox: boolean;
  /** Why a service is skipped (e.g. "no mailbox: MailboxNotEnabledForRESTAPI"). */
  notes: string[];
  /** mailboxSettings.userPurpose when it is not a user's own mailbox (shared, room, equipment, …). */
  purpose?: string;
}

const USERS_PATH = '/users?$select=id,userPrincipalName,displayName,mail,accountEnabled&$top=999';

/** Every user at once: for small callers only (a tenant run pages through `userPages`). */
export async function listUsers(conn: GraphConnection): Promise<GraphUser[]> {
  return listAll<GraphUser>(conn, USERS_PATH, 'the user list');
}

/** The tenant's users, one Graph page (up to 999) at a time, following nextLink: memory holds one page. */
export async function* userPages(conn: GraphConnection): AsyncGenerator<GraphUser[]> {
  for await (const p of pages<GraphUser>(conn, USERS_PATH, 'the user list')) yield p.value;
}

interface BatchResponse {
  responses?: { id: string; status: number; body?: { error?: { code?: string } } }[];
}

/**
 * Which users have a OneDrive and a mailbox. Two probes per user, sent as JSON batches of 20
 * requests (10 users per round trip); a probe the batch could not answer is asked again on its own.
 */
export async function probeServices(conn: GraphConnection, users: GraphUser[]): Promise<Map<string, UserServices>> {
  const out = new Map<string, UserServices>();
  for (let i = 0; i < users.length; i += 10) {
    const group = users.slice(i, i + 10);
    const requests = group.flatMap((u, j) => [
      { id: `d${j}`, method: 'GET', url: `/users/${u.id}/drive?$select=id` },
      { id: `m${j}`, method: 'GET', url: `/users/${u.id}/mailFolders/inbox?$select=id` },
    ]);
    // Each request of a batch counts against its mailbox's budget on Graph's side: count it on ours too.
    for (const r of requests) conn.gates.count(mailboxOf(conn.url(r.url)));
    let batch: BatchResponse = {};
    try {
      batch = (await conn.client.api(conn.url('/$batch')).post({ requests })) as BatchResponse;
    } catch {
      batch = {};
    }
    const byId = new Map((batch.responses ?? []).map((r) => [r.id, r]));
    for (const [j, u] of group.entries()) {
      const s: UserServices = { drive: false, mailbox: false, notes: [] };
      for (const kind of ['d', 'm'] as const) {
        let status = byId.get(`${kind}${j}`)?.status;
        let code = byId.get(`${kind}${j}`)?.body?.error?.code;
        if (status === undefined || status === 429 || status >= 500) {
          try {
            await getJson(conn, kind === 'd' ? `/users/${u.id}/drive?$select=id` : `/users/${u.id}/mailFolders/inbox?$select=id`, 'service probe');
            status = 200;
          } catch (e) {
            if (!isGraphReadFailure(e)) throw e;
            status = e.status ?? 500;
            code = e.remoteCode;
          }
        }
        const ok = status >= 200 && status < 300;
        if (kind === 'd') s.drive = ok;
        else s.mailbox = ok;
        if (!ok) s.notes.push(`${kind === 'd' ? 'no OneDrive' : 'no mailbox'} (${status}${code ? ` ${code}` : ''})`);
      }
      out.set(u.id, s);
    }
  }
  await probePurposes(conn, users.filter((u) => u.accountEnabled === false && out.get(u.id)?.mailbox), out);
  return out;
}

/**
 * Shared, room and equipment mailboxes are accounts that cannot sign in: only disabled accounts
 * with a mailbox are asked for mailboxSettings.userPurpose (20 a batch), so a tenant of ordinary
 * users pays nothing for the question. A mailbox whose purpose cannot be read is backed up as a
 * user's (it has a mailbox either way); the purpose only names it in the report.
 */
async function probePurposes(conn: GraphConnection, users: GraphUser[], out: Map<string, UserServices>): Promise<void> {
  for (let i = 0; i < users.length; i += 20) {
    const group = users.slice(i, i + 20);
    const requests = group.map((u, j) => ({ id: String(j), method: 'GET', url: `/users/${u.id}/mailboxSettings/userPurpose` }));
    let batch: { responses?: { id: string; status: number; body?: { value?: unknown } }[] } = {};
    try {
      batch = (await conn.client.api(conn.url('/$batch')).post({ requests })) as typeof batch;
    } catch {
      batch = {};
    }
    for (const r of batch.responses ?? []) {
      const u = group[Number(r.id)];
      const purpose = r.status === 200 && typeof r.body?.value === 'string' ? r.body.value : undefined;
      const s = u && out.get(u.id);
      if (s && purpose && purpose !== 'user') {
        s.purpose = purpose;
        s.notes.push(`${purpose} mailbox (mailboxSettings.userPurpose = ${purpose}; account disabled): backed up like a user`);
      }
    }
  }
}
