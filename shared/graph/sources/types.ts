import type { GraphConnection } from '../connection';
import type { ItemContent } from '../download';
import type { MemoryBudget } from '../gates';

export { SERVICES, type Service } from '../../m365/services';
import type { Service } from '../../m365/services';

/**
 * What a source reports while it reads a user's service. Items are grouped in scopes (a mail
 * folder, the drive, the folder list): a delta feed belongs to one scope, and a full listing of a
 * scope lets the backup end whatever it did not list.
 */
export type SourceChange =
  | {
      kind: 'item';
      id: string;
      scope: string;
      /** Graph's change marker (eTag, changeKey): equal means unchanged, nothing is fetched. */
      version: string;
      /** A marker of the content alone (OneDrive's cTag): when only this is unchanged, the stored chunks are reused. */
      contentVersion?: string;
      meta: Record<string, unknown>;
      /** Fetches the content; absent for items that have none (folders). */
      content?: () => Promise<ItemContent>;
    }
  | { kind: 'removed'; id: string; scope: string }
  /** The delta token was refused (410 / syncStateNotFound): what follows is a full listing of the scope. */
  | { kind: 'resync'; scope: string }
  /** A page of a delta feed was read and more follow; `nextLink` resumes the feed after it. */
  | { kind: 'page'; scope: string; full: boolean; nextLink: string }
  /** Every page of the scope was read; `full` when it was a complete listing. */
  | { kind: 'scopeComplete'; scope: string; full: boolean; cursor?: string }
  /** The scope no longer exists (a deleted folder): everything in it is gone. */
  | { kind: 'scopeGone'; scope: string }
  /** The scope could not be read to the end: its cursor stays where it was. */
  | { kind: 'scopeFailed'; scope: string; reason: string }
  /** One item could not be read (malformed); the scope's cursor stays so it is retried next run. */
  | { kind: 'failed'; id: string; scope: string; reason: string };

export interface SourceContext {
  conn: GraphConnection;
  userId: string;
  spoolDir: string;
  /** Delta page size asked for with Prefer: odata.maxpagesize. */
  pageSize: number;
  /** Content held in memory by the whole run; beyond it, downloads spool to disk. */
  memory?: MemoryBudget;
  now?: Date;
  /** Read each drive item's sharing permissions (OneDrive, SharePoint); default on. */
  permissions?: boolean;
}

export interface ServiceSource {
  service: Service;
  /** Reads changes since the cursors (scope -> delta link); no cursors = a full listing. */
  changes(cursors: Record<string, string>): AsyncIterable<SourceChange>;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
