import { createHmac, randomBytes } from 'node:crypto';
import { PrivateKey, unwrapEnvelope, wrapEnvelope } from '../crypto';
import { BackupError } from '../errors';
import type { Repository } from './repository';
import { deleteRestoreRow, getRestoreRow, putRestoreRow, restoreArea } from './restoreArea';
import { macValid } from './rowMac';

/**
 * A browse session (the console's "unlock"): the private key, opened with the password once by an
 * admin, wrapped by the key provider (Key Vault in Azure) into a row of the restore area, as a
 * restore session is. The browser holds only the session id, which is useless without the key
 * provider and is bound to who may use it: the admin who opened it, or the one self-service user it
 * was opened for. It ends after IDLE_MS without use (every use slides it), after MAX_MS whatever
 * happens, or when closed; the hourly restore-area sweep deletes what expired.
 * Row: PartitionKey "session", RowKey "browse-<hex>"; `expires` (idle), `ends` (absolute), keyed
 * tokens of the owner and of the self-service user (names stay inside the envelope).
 */
export const BROWSE_IDLE_MS = 15 * 60_000;
export const BROWSE_MAX_MS = 8 * 3_600_000;
/** A use refreshes the idle expiry at most this often (one row write, not one per request). */
const SLIDE_EVERY_MS = 30_000;

export interface BrowseSessionInfo {
  id: string;
  /** UPN of the admin who opened it ("" for a function-key caller). */
  owner: string;
  /** The self-service user it was opened for; absent for an admin's own session. */
  forUser?: string;
  expires: string;
  ends: string;
}

const PREFIX = 'browse-';
const purpose = (hex: string) => `browse-session:${hex}`;
const whoToken = (repo: Repository, upn: string) => createHmac('sha256', repo.keys.tokenKey).update(`browse-session-user\0${upn.toLowerCase()}`).digest('hex');

function checkId(hex: string): string {
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new BackupError('USAGE', 'That is not a browse session id.');
  return hex;
}

export async function createBrowseSession(repo: Repository, key: PrivateKey, who: { owner: string; forUser?: string }, now = Date.now()): Promise<BrowseSessionInfo> {
  const hex = randomBytes(16).toString('hex');
  const secret = { key: key.raw().toString('base64'), owner: who.owner.toLowerCase(), ...(who.forUser ? { forUser: who.forUser.toLowerCase() } : {}) };
  const envelope = await wrapEnvelope(repo.provider, Buffer.from(JSON.stringify(secret)), purpose(hex));
  const expires = new Date(now + BROWSE_IDLE_MS).toISOString();
  const ends = new Date(now + BROWSE_MAX_MS).toISOString();
  await putRestoreRow(repo, 'session', PREFIX + hex, { envelope, expires, ends, ownerToken: whoToken(repo, who.owner), ...(who.forUser ? { forToken: whoToken(repo, who.forUser) } : {}) });
  return { id: hex, owner: secret.owner, ...(secret.forUser ? { forUser: secret.forUser } : {}), expires, ends };
}

/** Opens a session for a use (sliding its idle expiry); NOT_FOUND when it ended, expired or never was. */
export async function openBrowseSession(repo: Repository, hex: string, now = Date.now()): Promise<BrowseSessionInfo & { key: PrivateKey }> {
  const row = await getRestoreRow(repo, 'session', PREFIX + checkId(hex));
  const expires = Date.parse(String(row?.expires));
  const ends = Date.parse(String(row?.ends));
  if (!row || !(expires > now) || !(ends > now)) throw new BackupError('NOT_FOUND', 'The browse session has ended or expired (15 minutes without use); unlock again with the repository password.');
  const secret = JSON.parse((await unwrapEnvelope(repo.provider, row.envelope as Uint8Array, purpose(hex), 'the browse session')).toString('utf8')) as { key: string; owner: string; forUser?: string };
  let newExpires = expires;
  if (now + BROWSE_IDLE_MS - expires > SLIDE_EVERY_MS) {
    newExpires = Math.min(now + BROWSE_IDLE_MS, ends);
    const kept = { envelope: row.envelope, ends: row.ends, ownerToken: row.ownerToken, ...(row.forToken ? { forToken: row.forToken } : {}) };
    await putRestoreRow(repo, 'session', PREFIX + hex, { ...kept, expires: new Date(newExpires).toISOString() });
  }
  return {
    id: hex,
    owner: secret.owner,
    ...(secret.forUser ? { forUser: secret.forUser } : {}),
    expires: new Date(newExpires).toISOString(),
    ends: new Date(ends).toISOString(),
    key: new PrivateKey(Buffer.from(secret.key, 'base64'), repo.config.publicKey),
  };
}

export async function endBrowseSession(repo: Repository, hex: string): Promise<void> {
  await deleteRestoreRow(repo, 'session', PREFIX + checkId(hex));
}

/** Ids of the live sessions a caller may use: opened by them, or opened for them (self-service). No unwrap. */
export async function browseSessionsOf(repo: Repository, upn: string, now = Date.now()): Promise<{ id: string; opener: boolean; expires: string }[]> {
  const { table } = await restoreArea(repo);
  const token = whoToken(repo, upn);
  const out: { id: string; opener: boolean; expires: string }[] = [];
  for await (const row of repo.tables.query(table, { filter: `PartitionKey eq 'session' and RowKey ge '${PREFIX}' and RowKey lt 'browse.'` })) {
    if (!macValid(repo.keys.macKey, table, row)) continue;
    if (!(Date.parse(String(row.expires)) > now) || !(Date.parse(String(row.ends)) > now)) continue;
    const opener = row.ownerToken === token;
    if (opener || row.forToken === token) out.push({ id: row.rowKey.slice(PREFIX.length), opener, expires: String(row.expires) });
  }
  return out;
}
