import {
  TableClient,
  TableServiceClient,
  type TableEntity,
  type TableEntityResult,
  type TransactionAction,
} from '@azure/data-tables';
import { STORAGE_RETRY, type StorageConnection } from './connection';
import { forEachConcurrent } from '../concurrency';
import { storageCall } from './errors';

/** A table row: partition key, row key and typed properties (number, string, boolean, Uint8Array). */
export type Row = { partitionKey: string; rowKey: string } & Record<string, unknown>;
export type StoredRow = Row & { etag: string };

export type RowOperation =
  | { kind: 'create'; row: Row }
  | { kind: 'upsert'; row: Row }
  | { kind: 'update'; row: Row; etag?: string }
  /** Sets only the given properties; the others stay as they are. */
  | { kind: 'merge'; row: Row; etag?: string }
  | { kind: 'delete'; partitionKey: string; rowKey: string };

/** http is allowed only because Azurite speaks it; Azure endpoints are https. */
const CLIENT_OPTIONS = {
  allowInsecureConnection: true,
  retryOptions: { maxRetries: STORAGE_RETRY.maxTries - 1, retryDelayInMs: STORAGE_RETRY.retryDelayInMs, maxRetryDelayInMs: STORAGE_RETRY.maxRetryDelayInMs },
};

/** Azure Table Storage limit: operations in one entity group transaction. */
export const MAX_BATCH = 100;

export interface QueryOptions {
  filter?: string;
  select?: string[];
  abortSignal?: AbortSignal;
}

/**
 * Rows in named tables. Optimistic concurrency: `create` fails with ALREADY_EXISTS when present,
 * `update` with an etag fails with PRECONDITION_FAILED when the row changed; `upsert` always wins.
 */
export class TableStore {
  private readonly service: TableServiceClient;
  private readonly tables = new Map<string, TableClient>();
  private readonly connection: StorageConnection;

  constructor(connection: StorageConnection) {
    this.connection = connection;
    this.service =
      connection.kind === 'connectionString'
        ? TableServiceClient.fromConnectionString(connection.connectionString, CLIENT_OPTIONS)
        : new TableServiceClient(connection.tableUrl, connection.credential, CLIENT_OPTIONS);
  }

  private table(name: string): TableClient {
    let t = this.tables.get(name);
    if (!t) {
      t =
        this.connection.kind === 'connectionString'
          ? TableClient.fromConnectionString(this.connection.connectionString, name, CLIENT_OPTIONS)
          : new TableClient(this.connection.tableUrl, name, this.connection.credential, CLIENT_OPTIONS);
      this.tables.set(name, t);
    }
    return t;
  }

  /** Creates the table if absent; succeeds if present. */
  async ensureTable(name: string): Promise<void> {
    await storageCall(`create table ${name}`, () => this.service.createTable(name));
  }

  /** Deletes the table; succeeds if absent. */
  async deleteTable(name: string): Promise<void> {
    await storageCall(`delete table ${name}`, () => this.service.deleteTable(name));
  }

  async listTables(): Promise<string[]> {
    const names: string[] = [];
    await storageCall('list tables', async () => {
      for await (const t of this.service.listTables()) if (t.name) names.push(t.name);
    });
    return names;
  }

  /** One row, or undefined when absent. */
  async get(table: string, partitionKey: string, rowKey: string): Promise<StoredRow | undefined> {
    try {
      const e = await storageCall(`read ${table}/${partitionKey}/${rowKey}`, () =>
        this.table(table).getEntity<Record<string, unknown>>(partitionKey, rowKey, { disableTypeConversion: false }),
      );
      return toRow(e);
    } catch (err) {
      if ((err as { code?: string }).code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** Inserts a row; ALREADY_EXISTS when present. Returns the etag. */
  async create(table: string, row: Row): Promise<string> {
    const res = await storageCall(`create ${table}/${row.partitionKey}/${row.rowKey}`, () => this.table(table).createEntity(row as TableEntity));
    return res.etag ?? '';
  }

  /** Inserts or replaces a row. */
  async upsert(table: string, row: Row): Promise<string> {
    const res = await storageCall(`write ${table}/${row.partitionKey}/${row.rowKey}`, () =>
      this.table(table).upsertEntity(row as TableEntity, 'Replace'),
    );
    return res.etag ?? '';
  }

  /** Replaces a row only if its etag still matches; PRECONDITION_FAILED otherwise, NOT_FOUND when absent. */
  async update(table: string, row: Row, etag: string): Promise<string> {
    const res = await storageCall(`update ${table}/${row.partitionKey}/${row.rowKey}`, () =>
      this.table(table).updateEntity(row as TableEntity, 'Replace', { etag }),
    );
    return res.etag ?? '';
  }

  /** Deletes a row (only that version when an etag is given); succeeds when absent. */
  async delete(table: string, partitionKey: string, rowKey: string, etag?: string): Promise<void> {
    try {
      await storageCall(`delete ${table}/${partitionKey}/${rowKey}`, () => this.table(table).deleteEntity(partitionKey, rowKey, etag ? { etag } : {}));
    } catch (e) {
      if ((e as { code?: string }).code !== 'NOT_FOUND') throw e;
    }
  }

  /** Rows matching an OData filter, fetched 1,000 a page, yielded one by one. */
  async *query(table: string, options: QueryOptions = {}): AsyncIterableIterator<StoredRow> {
    const iter = this.table(table)
      .listEntities<Record<string, unknown>>({
        queryOptions: { filter: options.filter, select: options.select },
        abortSignal: options.abortSignal,
      })
      .byPage({ maxPageSize: 1000 });
    while (true) {
      const page = await storageCall(`query ${table}`, () => iter.next());
      if (page.done) return;
      for (const e of page.value) yield toRow(e);
    }
  }

  /**
   * Applies operations in entity group transactions: grouped by partition, at most 100 each,
   * each group atomic. Groups of different partitions are independent.
   */
  async batch(table: string, operations: RowOperation[], concurrency = 4): Promise<void> {
    const byPartition = new Map<string, TransactionAction[]>();
    for (const op of operations) {
      const pk = op.kind === 'delete' ? op.partitionKey : op.row.partitionKey;
      let list = byPartition.get(pk);
      if (!list) byPartition.set(pk, (list = []));
      list.push(toAction(op));
    }
    const groups: TransactionAction[][] = [];
    for (const list of byPartition.values()) for (let i = 0; i < list.length; i += MAX_BATCH) groups.push(list.slice(i, i + MAX_BATCH));
    await forEachConcurrent(groups, concurrency, async (group) => {
      await storageCall(`write ${group.length} rows to ${table}`, () => this.table(table).submitTransaction(group));
    });
  }
}

function toAction(op: RowOperation): TransactionAction {
  switch (op.kind) {
    case 'create':
      return ['create', op.row as TableEntity];
    case 'upsert':
      return ['upsert', op.row as TableEntity, 'Replace'];
    case 'update':
      return ['update', op.row as TableEntity, 'Replace', op.etag ? { etag: op.etag } : undefined];
    case 'merge':
      return ['update', op.row as TableEntity, 'Merge', op.etag ? { etag: op.etag } : undefined];
    case 'delete':
      return ['delete', { partitionKey: op.partitionKey, rowKey: op.rowKey }];
  }
}

function toRow(e: TableEntityResult<Record<string, unknown>>): StoredRow {
  const row: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === 'etag' || k === 'timestamp' || k === 'odata.metadata') continue;
    row[k] = typeof v === 'bigint' ? Number(v) : v;
  }
  return { ...(row as Row), etag: e.etag };
}
