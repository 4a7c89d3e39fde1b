import { open, seal } from '../crypto';
import { BackupError } from '../errors';
import type { Repository } from './repository';
import { macValid, withMac } from './rowMac';

/**
 * The log of a pipeline run: records written by its work units (outcomes, the run's user roster),
 * kept in the snapshots table under PartitionKey "run.<runId>". Each body is sealed with the index
 * key (it holds personal data: UPNs, failure reasons) and each row is MACed like every index row,
 * so `verify` checks them and names real tampering. Orchestrations carry only the run id and counts.
 */
export const RUN_PARTITION_PREFIX = 'run.';

/**
 * Whether a run-log row is authentic: its row MAC, or, for a row written before run logs were MACed
 * (format version 1 as first released), its sealed body opening under the index key and its AAD.
 */
export function runLogRowAuthentic(repo: Repository, row: { partitionKey: string; rowKey: string } & Record<string, unknown>): boolean {
  const { layout, keys } = repo;
  if (row.mac !== undefined) return macValid(keys.macKey, layout.snapshotTable, row);
  if (!(row.body instanceof Uint8Array) || !row.partitionKey.startsWith(RUN_PARTITION_PREFIX)) return false;
  try {
    open(keys.indexKey, Buffer.from(row.body), aad(row.partitionKey.slice(RUN_PARTITION_PREFIX.length), row.rowKey), 'a run-log record');
    return Object.keys(row).every((k) => ['partitionKey', 'rowKey', 'body', 'etag'].includes(k));
  } catch {
    return false;
  }
}

const runPartition = (runId: string) => {
  if (!/^[A-Za-z0-9:._@-]{1,200}$/.test(runId)) throw new BackupError('USAGE', `"${runId.slice(0, 40)}" is not a valid run id.`);
  return `${RUN_PARTITION_PREFIX}${runId}`;
};
const aad = (runId: string, rk: string) => Buffer.from(`run/${runId}/${rk}`);
const odata = (s: string) => s.replace(/'/g, "''");

export class RunLog {
  constructor(
    private readonly repo: Repository,
    readonly runId: string,
  ) {
    runPartition(runId);
  }

  /** Writes (or replaces: a retried unit overwrites its own record) one record of the run. */
  async put(recordKey: string, value: unknown): Promise<void> {
    const { tables, layout, keys } = this.repo;
    const body = seal(keys.indexKey, Buffer.from(JSON.stringify(value)), aad(this.runId, recordKey));
    await tables.upsert(layout.snapshotTable, withMac(keys.macKey, layout.snapshotTable, { partitionKey: runPartition(this.runId), rowKey: recordKey, body }));
  }

  /** One record, or undefined. INTEGRITY when it was altered. */
  async get<T>(recordKey: string): Promise<T | undefined> {
    const row = await this.repo.tables.get(this.repo.layout.snapshotTable, runPartition(this.runId), recordKey);
    return row ? this.decode<T>(row.rowKey, row) : undefined;
  }

  /** Records whose key starts with `prefix`, in key order. INTEGRITY when one was altered. */
  async list<T>(prefix: string): Promise<{ key: string; value: T }[]> {
    const pk = runPartition(this.runId);
    const filter = `PartitionKey eq '${odata(pk)}' and RowKey ge '${odata(prefix)}' and RowKey lt '${odata(prefix)}\uffff'`;
    const out: { key: string; value: T }[] = [];
    for await (const row of this.repo.tables.query(this.repo.layout.snapshotTable, { filter })) out.push({ key: row.rowKey, value: this.decode<T>(row.rowKey, row) });
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Records whose key starts with `prefix` (and, with `after`, sorts after it; with `inclusive`,
   * from it on), in key order, one Table page at a time: a reader of a big run never holds the whole log.
   */
  async *records<T>(prefix: string, after?: string, o: { inclusive?: boolean } = {}): AsyncGenerator<{ key: string; value: T }> {
    const pk = runPartition(this.runId);
    const from = after !== undefined && after > prefix ? `RowKey ${o.inclusive ? 'ge' : 'gt'} '${odata(after)}'` : `RowKey ge '${odata(prefix)}'`;
    const filter = `PartitionKey eq '${odata(pk)}' and ${from} and RowKey lt '${odata(prefix)}\uffff'`;
    for await (const row of this.repo.tables.query(this.repo.layout.snapshotTable, { filter })) yield { key: row.rowKey, value: this.decode<T>(row.rowKey, row) };
  }

  private decode<T>(rk: string, row: Record<string, unknown> & { partitionKey: string; rowKey: string }): T {
    const { layout, keys } = this.repo;
    // Rows written before run logs were MACed carry no `mac`: their sealed body still authenticates them.
    if (row.mac !== undefined && !macValid(keys.macKey, layout.snapshotTable, row)) throw new BackupError('INTEGRITY', `The run log of run ${this.runId} was altered (record ${rk}).`);
    if (!(row.body instanceof Uint8Array)) throw new BackupError('INTEGRITY', `The run log of run ${this.runId} was altered (record ${rk} has no body).`);
    return JSON.parse(open(keys.indexKey, Buffer.from(row.body), aad(this.runId, rk), `run log ${this.runId}`).toString('utf8')) as T;
  }
}
