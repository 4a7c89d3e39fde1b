import { randomBytes } from 'node:crypto';
import { open, seal } from '../crypto';
import { BackupError } from '../errors';
import type { Repository } from './repository';

/**
 * The restore audit log: one sealed blob per restore started (who, what, when, where to), in the
 * repository's meta container under `audit/`. Sealed with the index key (readable by the app
 * without the password, so admins can always see it; names and users inside stay encrypted at
 * rest), the blob name bound into the seal, so an entry cannot be altered or moved unnoticed.
 * Names sort newest first (the time is inverted), so a page of the newest is one listing call.
 */
export interface AuditEntry {
  /** When the restore was started (ISO). */
  time: string;
  /** Who started it (UPN; "function key" for a key holder). */
  who: string;
  /** What was restored: the user (or every user), services, point in time, folder, items. */
  what: { user?: string; site?: string; services: string[]; at?: string; path?: string; items?: string[] };
  /** Where to: a zip download, in place, or another user's mailbox/OneDrive. */
  where: { kind: 'folder' | 'in-place' | 'user'; user?: string; conflict?: string };
  /** The restore's id (GET /api/restores/{id}). */
  restoreId: string;
  /** Through which door: the console's browse session, or the restore API. */
  via: 'browse-session' | 'api';
}

const PREFIX = 'audit/';
const MAX_TIME = 9_999_999_999_999;
const aad = (name: string) => Buffer.from(`audit-log:${name}`);

export async function appendAudit(repo: Repository, entry: AuditEntry): Promise<void> {
  const inverted = String(MAX_TIME - Date.parse(entry.time)).padStart(13, '0');
  const name = `${PREFIX}${inverted}-${randomBytes(6).toString('hex')}`;
  await repo.blobs.putBlob(repo.layout.metaContainer, name, seal(repo.keys.indexKey, Buffer.from(JSON.stringify(entry)), aad(name)), { tier: 'Hot' });
}

/** The newest `limit` entries, newest first. A damaged entry is an INTEGRITY error naming it. */
export async function readAudit(repo: Repository, limit = 100): Promise<AuditEntry[]> {
  const names: string[] = [];
  for await (const b of repo.blobs.list(repo.layout.metaContainer, { prefix: PREFIX })) {
    names.push(b.name);
    if (names.length >= limit) break;
  }
  const out: AuditEntry[] = [];
  for (const name of names) {
    const plain = open(repo.keys.indexKey, await repo.blobs.getBlob(repo.layout.metaContainer, name), aad(name), `audit entry ${name}`);
    try {
      out.push(JSON.parse(plain.toString('utf8')) as AuditEntry);
    } catch {
      throw new BackupError('INTEGRITY', `Audit entry ${name} is not readable.`);
    }
  }
  return out;
}
