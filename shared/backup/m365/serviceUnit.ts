import type { ContentWriter, Repository } from '../../repo';
import { CalendarSource, ContactsSource, GroupsSource, MailSource, MailboxConfigSource, concatSources, OneDriveSource, SharePointSource, TeamsSource, ChatsSource, type GraphConnection, type ServiceSource, type SourceContext } from '../../graph';
import type { MemoryBudget } from '../../graph/gates';
import { servicePartition, type ItemFailure, type Service, type ServiceOutcome, type TenantUser } from '../../m365';
import { backupService } from './serviceBackup';

export function sourceFor(service: Service, ctx: SourceContext): ServiceSource {
  switch (service) {
    case 'onedrive':
      return new OneDriveSource(ctx);
    case 'mail':
      return concatSources(new MailSource(ctx), new MailboxConfigSource(ctx));
    case 'calendar':
      return new CalendarSource(ctx);
    case 'contacts':
      return new ContactsSource(ctx);
    case 'sharepoint':
      return new SharePointSource(ctx);
    case 'groups':
      return new GroupsSource(ctx);
    case 'teams':
      return new TeamsSource(ctx);
    case 'chats':
      return new ChatsSource(ctx);
  }
}

export interface ServiceUnitOptions {
  tenant: string;
  user: TenantUser;
  service: Service;
  conn: GraphConnection;
  /** The content session's writer: chunks are repository-wide, shared by every service of a run (a function: made on first use). */
  writer: ContentWriter | (() => ContentWriter);
  spoolDir: string;
  pageSize?: number;
  memory?: MemoryBudget;
  /** Work-unit budget (epoch ms): stop at a scope or page boundary after it and report `more`. */
  deadline?: number;
  onProgress?: (p: { items: number; bytes: number }) => void;
  /** Nothing changed: move the cursors only, commit no snapshot (see backupService). */
  skipUnchanged?: boolean;
}

export interface ServiceUnitResult {
  outcome: ServiceOutcome;
  failures: ItemFailure[];
  resynced: number;
  /** Stopped at the budget: run the next unit to continue. */
  more: boolean;
  /** Set when the whole unit failed (the outcome is then `failed` and names it in `failures`). */
  error?: unknown;
}

/**
 * One work unit: one service of one user backed up into its own snapshot (delta since the last
 * one), within an optional time budget. The CLI run and the Function App's activity both call this.
 * A failure of the unit becomes a `failed` outcome with its reason; the caller decides whether it
 * is worth retrying (`error`).
 */
export async function backupServiceUnit(repo: Repository, o: ServiceUnitOptions): Promise<ServiceUnitResult> {
  const ctx: SourceContext = { conn: o.conn, userId: o.user.id, spoolDir: o.spoolDir, pageSize: o.pageSize ?? 100, memory: o.memory };
  try {
    const r = await backupService(repo, {
      partitionName: servicePartition(o.tenant, o.user.id, o.service),
      source: sourceFor(o.service, ctx),
      writer: o.writer,
      label: { tenant: o.tenant, userId: o.user.id, userPrincipalName: o.user.userPrincipalName, service: o.service },
      deadline: o.deadline,
      onProgress: o.onProgress,
      skipUnchanged: o.skipUnchanged,
    });
    const counts = { fetched: r.fetched, fetchedBytes: r.fetchedBytes, removed: r.removed, failed: r.failures.length };
    return {
      outcome: r.snapshot
        ? { service: o.service, status: r.snapshot.status, snapshot: r.snapshot.seq, items: r.snapshot.stats.items, ...counts }
        : { service: o.service, status: 'complete', snapshot: r.unchanged?.seq ?? 0, items: r.unchanged?.items ?? 0, ...counts, unchanged: true },
      failures: r.failures,
      resynced: r.resynced.length,
      more: r.more,
    };
  } catch (e) {
    const reason = String((e as Error)?.message ?? e);
    return {
      outcome: { service: o.service, status: 'failed', snapshot: 0, items: 0, fetched: 0, fetchedBytes: 0, removed: 0, failed: 1 },
      failures: [{ id: `(${o.service})`, reason }],
      resynced: 0,
      more: false,
      error: e,
    };
  }
}
