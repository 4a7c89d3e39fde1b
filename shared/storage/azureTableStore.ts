import {
  TableClient,
  TableServiceClient,
  type TableEntity,
  type TableEntityResult,
  type TransactionAction,
} from '@azure/data-tables';
import { forEachConcurrent } from '../concurrency';
import { STORAGE_RETRY, type StorageConnection } from './connection';
import { storageCall } from './errors';
import {
  MAX_BATCH,
  partitionOf,
  type BatchOptions,
  type CallOptions,
  type EtagOptions,
  type QueryOptions,
  type Row,
  type RowOperation,
  type StoredRow,
  type TableStore,
} from './tableStore';

/** http is allowed only because Azurite speaks it; Azure endpoints are https. */
const CLIENT_OPTIONS = {
  allowInsecureConnection: true,
  retryOptions: { maxRetries: STORAGE_RETRY.maxTries - 1, retryDelayInMs: STORAGE_RETRY.retryDelayInMs, maxRetryDelayInMs: STORAGE_RETRY.maxRetryDelayInMs },
};

/** The table contract over `@azure/data-tables`; SDK errors are translated here. */
export class AzureTableStore implements TableStore {
  private readonly service: TableServiceClient;
  private readonly tables = new Map<string, TableClient>();

  constructor(private readonly connection: StorageConnection) {
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

  async ensureTable(name: string, options: CallOptions = {}): Promise<void> {
    const { abortSignal } = options;
    await storageCall(`create table ${name}`, () => this.service.createTable(name, { abortSignal }), abortSignal);
  }

  async deleteTable(name: string, options: CallOptions = {}): Promise<void> {
    const { abortSignal } = options;
    await storageCall(`delete table ${name}`, () => this.service.deleteTable(name, { abortSignal }), abortSignal);
  }

  async listTables(options: CallOptions = {}): Promise<string[]> {
    const { abortSignal } = options;
    const names: string[] = [];
    await storageCall(
      'list tables',
      async () => {
        for await (const t of this.service.listTables({ abortSignal })) if (t.name) names.push(t.name);
      },
      abortSignal,
    );
    return names;
  }

  async get(table: string, partitionKey: string, rowKey: string, options: CallOptions = {}): Promise<StoredRow | undefined> {
    const { abortSignal } = options;
    try {
      const e = await storageCall(
        `read ${table}/${partitionKey}/${rowKey}`,
        () => this.table(table).getEntity<Record<string, unknown>>(partitionKey, rowKey, { disableTypeConversion: false, abortSignal }),
        abortSignal,
      );
      return toRow(e);
    } catch (err) {
      if ((err as { code?: string }).code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async create(table: string, row: Row, options: CallOptions = {}): Promise<string> {
    const { abortSignal } = options;
    const res = await storageCall(`create ${table}/${row.partitionKey}/${row.rowKey}`, () => this.table(table).createEntity(row as TableEntity, { abortSignal }), abortSignal);
    return res.etag ?? '';
  }

  async upsert(table: string, row: Row, options: CallOptions = {}): Promise<string> {
    const { abortSignal } = options;
    const res = await storageCall(`write ${table}/${row.partitionKey}/${row.rowKey}`, () => this.table(table).upsertEntity(row as TableEntity, 'Replace', { abortSignal }), abortSignal);
    return res.etag ?? '';
  }

  async update(table: string, row: Row, etag: string, options: CallOptions = {}): Promise<string> {
    const { abortSignal } = options;
    const res = await storageCall(`update ${table}/${row.partitionKey}/${row.rowKey}`, () => this.table(table).updateEntity(row as TableEntity, 'Replace', { etag, abortSignal }), abortSignal);
    return res.etag ?? '';
  }

  async merge(table: string, row: Row, options: EtagOptions = {}): Promise<string> {
    const { abortSignal } = options;
    // Without an etag the SDK sends If-Match: *, so an absent row is NOT_FOUND rather than created.
    const res = await storageCall(
      `update ${table}/${row.partitionKey}/${row.rowKey}`,
      () => this.table(table).updateEntity(row as TableEntity, 'Merge', { etag: options.etag, abortSignal }),
      abortSignal,
    );
    return res.etag ?? '';
  }

  async delete(table: string, partitionKey: string, rowKey: string, options: EtagOptions = {}): Promise<void> {
    const { abortSignal } = options;
    try {
      await storageCall(`delete ${table}/${partitionKey}/${rowKey}`, () => this.table(table).deleteEntity(partitionKey, rowKey, { etag: options.etag, abortSignal }), abortSignal);
    } catch (e) {
      if ((e as { code?: string }).code !== 'NOT_FOUND') throw e;
    }
  }

  async *query(table: string, options: QueryOptions = {}): AsyncIterableIterator<StoredRow> {
    const { abortSignal } = options;
    const pageSize = Math.min(1000, Math.max(1, options.pageSize ?? 1000));
    const iter = this.table(table)
      .listEntities<Record<string, unknown>>({ queryOptions: { filter: options.filter, select: options.select && ['PartitionKey', 'RowKey', ...options.select] }, abortSignal })
      .byPage({ maxPageSize: pageSize });
    while (true) {
      const page = await storageCall(`query ${table}`, () => iter.next(), abortSignal);
      if (page.done) return;
      for (const e of page.value) yield toRow(e);
    }
  }

  async batch(table: string, operations: RowOperation[], options: BatchOptions = {}): Promise<void> {
    const { abortSignal } = options;
    abortSignal?.throwIfAborted();
    const byPartition = new Map<string, TransactionAction[]>();
    for (const op of operations) {
      const pk = partitionOf(op);
      let list = byPartition.get(pk);
      if (!list) byPartition.set(pk, (list = []));
      list.push(toAction(op));
    }
    const groups: TransactionAction[][] = [];
    for (const list of byPartition.values()) for (let i = 0; i < list.length; i += MAX_BATCH) groups.push(list.slice(i, i + MAX_BATCH));
    await forEachConcurrent(groups, options.concurrency ?? 4, async (group) => {
      await storageCall(`write ${group.length} rows to ${table}`, () => this.table(table).submitTransaction(group, { abortSignal }), abortSignal);
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
