import type { GraphConnection, Service } from '../../../graph';

/**
 * The contract between the in-place / to-user restore engine (`engine.ts`) and the per-service
 * writers (OneDrive, mail, contacts here; calendar in `calendarWriter.ts`). The engine plans once,
 * cuts each user x service into bounded units, and hands a writer one unit at a time; a writer
 * writes the unit's items through Graph and returns counts. Kept small on purpose: writers do not
 * know about the repository, Durable Functions, or other units.
 */

/** What to do when the destination already has an item of the same name (or the same message). */
export type ConflictMode = 'skip' | 'rename' | 'replace';

/** Where a restore goes: files in a folder (the zip / CLI folder, today's restore), back in place, or into another user. */
export type RestoreDestination = { kind: 'folder' } | { kind: 'in-place' } | { kind: 'user'; user: string };

/** One backed-up item handed to a writer, in the plan's order (folders before their children). */
export interface RestoreItem {
  /** The backed-up item's id (e.g. "folder:<id>" for mail folders, as in the catalog): the key of the restore map. */
  sourceId: string;
  /** The metadata record as backed up (see shared/graph/sources/*: `type`, names, parents, times). */
  meta: Record<string, unknown>;
  /** Bytes of content (0 for folders). */
  size: number;
  /**
   * The content streamed from the repository in order (MIME for mail, JSON for events and contacts,
   * the file for OneDrive); undefined for folders. Each call starts a new read; pieces are <= 8 MiB,
   * so a writer that forwards them holds little memory whatever the item's size.
   */
  content?: () => AsyncIterable<Buffer>;
}

/**
 * The restore map of one (source user, target user, service): source id -> id created in the
 * target, kept in the repository across units and runs. A writer looks an item up before creating
 * it (a rerun, or a retried unit, creates nothing twice) and records what it created at once.
 */
export interface RestoreMap {
  get(sourceId: string): Promise<string | undefined>;
  set(sourceId: string, createdId: string): Promise<void>;
  delete(sourceId: string): Promise<void>;
}

export interface WriterContext {
  /** The restore's Graph connection (the restore app registration when the tenant has one). */
  conn: GraphConnection;
  /** The Graph id of the user written into (the source user in place, the other user for `--to-user`); a site's entry id ("site:<id>") for SharePoint. */
  targetUserId: string;
  /** The drive the OneDrive writer writes into ("/drives/<id>", a site's library); undefined: the target user's OneDrive. */
  drive?: string;
  conflict: ConflictMode;
  /**
   * In place: undefined (items go back to their own paths). To another user: the name of the folder
   * created at the top of the drive / mailbox / contacts (a new calendar) that holds everything,
   * e.g. "Restored from adele@contoso.com 2026-11-20".
   */
  destinationRoot?: string;
  /** Only items at or under this folder path ("Inbox/Projects", "Documents/2026"), already checked; undefined: all. */
  pathPrefix?: string;
  map: RestoreMap;
  signal?: AbortSignal;
}

/** One item that could not be written: named by its path or subject, with a sentence saying why. */
export interface WriteFailure {
  item: string;
  reason: string;
}

/** What a writer reports for a unit. `failures` lists at most the first 100 (the count is exact). */
export interface WriterCounts {
  /** Created (or, with `replace`, created in place of the old one). */
  restored: number;
  /** Already there (restore map hit whose target still exists, or a same-named item with `skip`). */
  skipped: number;
  /** Written beside a same-named item under a new name (`rename`). */
  renamed: number;
  failed: number;
  failures: WriteFailure[];
  /** Sentences on what was deliberately left alone (e.g. mailbox settings with `skip`), each once. */
  notes?: string[];
}

export interface ServiceWriter {
  readonly service: Service;
  /**
   * Writes the items of one unit into the target. Never throws for one bad item (it is counted in
   * `failed` with a reason and retried by the next run); throws only when nothing can go on (the
   * target has no mailbox or drive, write access refused) — the engine then fails the whole unit.
   */
  write(ctx: WriterContext, items: readonly RestoreItem[]): Promise<WriterCounts>;
}

export const MAX_LISTED_FAILURES = 100;

export const emptyCounts = (): WriterCounts => ({ restored: 0, skipped: 0, renamed: 0, failed: 0, failures: [] });

export function addCounts(into: WriterCounts, c: WriterCounts): WriterCounts {
  into.restored += c.restored;
  into.skipped += c.skipped;
  into.renamed += c.renamed;
  into.failed += c.failed;
  for (const f of c.failures) if (into.failures.length < MAX_LISTED_FAILURES) into.failures.push(f);
  for (const n of c.notes ?? []) if (!(into.notes ??= []).includes(n)) into.notes.push(n);
  return into;
}

/** Records one failed item in `counts` (the list keeps the first MAX_LISTED_FAILURES). */
export function countFailure(counts: WriterCounts, item: string, reason: string): void {
  counts.failed++;
  if (counts.failures.length < MAX_LISTED_FAILURES) counts.failures.push({ item, reason });
}
