import type { Row, StoredRow } from '../storage';
import type { Repository } from './repository';
import { macValid, withMac } from './rowMac';
import { BackupError } from '../errors';

/**
 * The restore area of a repository: the `<repo>restores` table and the `<repo>-restores` container.
 * Everything in it belongs to one running restore (or to its download link) and is deleted with it;
 * nothing in it is part of the backup. Repositories made before the area existed get it on first use.
 */
const ready = new WeakSet<Repository>();

export async function restoreArea(repo: Repository): Promise<{ table: string; container: string }> {
  const { restoreTable: table, restoreContainer: container } = repo.layout;
  if (!ready.has(repo)) {
    await repo.tables.ensureTable(table);
    await repo.blobs.ensureContainer(container);
    ready.add(repo);
  }
  return { table, container };
}

/** Row kinds of the restore table (its PartitionKey). */
export type RestoreRowKind = 'session' | 'plan' | 'zip';

export async function putRestoreRow(repo: Repository, kind: RestoreRowKind, id: string, fields: Record<string, unknown>): Promise<void> {
  const { table } = await restoreArea(repo);
  await repo.tables.upsert(table, withMac(repo.keys.macKey, table, { partitionKey: kind, rowKey: id, ...fields } as Row));
}

/** A row of the restore table, MAC-checked; undefined when absent. */
export async function getRestoreRow(repo: Repository, kind: RestoreRowKind, id: string): Promise<StoredRow | undefined> {
  const { table } = await restoreArea(repo);
  const row = await repo.tables.get(table, kind, id);
  if (row && !macValid(repo.keys.macKey, table, row)) throw new BackupError('INTEGRITY', `The restore ${kind} row ${id} was altered or is corrupted.`);
  return row;
}

export async function deleteRestoreRow(repo: Repository, kind: RestoreRowKind, id: string): Promise<void> {
  const { table } = await restoreArea(repo);
  await repo.tables.delete(table, kind, id); // absent is fine
}

/** Rows of one kind whose `expires` has passed. */
export async function* expiredRestoreRows(repo: Repository, kind: RestoreRowKind, now = new Date()): AsyncIterableIterator<StoredRow> {
  const { table } = await restoreArea(repo);
  for await (const row of repo.tables.query(table, { filter: `PartitionKey eq '${kind}'` })) if (!(Date.parse(String(row.expires)) > now.getTime())) yield row;
}

/** Restore ids become row keys and blob names: keep them to a safe alphabet. */
export function checkRestoreId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(id)) throw new BackupError('USAGE', `"${id}" is not a restore id.`);
  return id;
}
