/**
 * The table half of the storage contract. `AzureTableStore` implements it over the Azure SDK;
 * `FaultyTableStore` wraps another `TableStore`. Every implementation must pass
 * `test/storage/contract.ts`.
 *
 * Rules common to every method (as for `BlobStore`):
 * - Failures are `BackupError`s with a code: NOT_FOUND, ALREADY_EXISTS, PRECONDITION_FAILED, and
 *   STORAGE_UNREACHABLE/STORAGE from any method. A write that failed with those last two may still
 *   have happened (lost reply).
 * - `options.abortSignal`: an aborted signal rejects with its reason (an AbortError, not a
 *   BackupError), before any request when it is already aborted.
 * - Strong consistency: a read after a write sees it.
 * - Rows: `partitionKey`/`rowKey` strings without `/ \ # ?` or control characters; property values
 *   are number, string, boolean or Uint8Array. Reads return numbers, never bigints. Property names
 *   are case-sensitive identifiers; `etag` and `timestamp` are reserved (not returned).
 * - Every write returns or bumps the row's etag; `update`/`merge`/`delete` with an etag succeed only
 *   on that version (PRECONDITION_FAILED otherwise): the optimistic concurrency the repository uses.
 */
export interface TableStore {
  /** Creates the table if absent; succeeds if present. Idempotent. */
  ensureTable(name: string, options?: CallOptions): Promise<void>;

  /** Deletes the table and its rows; succeeds if absent. Idempotent. */
  deleteTable(name: string, options?: CallOptions): Promise<void>;

  /** Every table name of the account. */
  listTables(options?: CallOptions): Promise<string[]>;

  /** One row, or undefined when it (or its table) is absent. */
  get(table: string, partitionKey: string, rowKey: string, options?: CallOptions): Promise<StoredRow | undefined>;

  /** Inserts a row; ALREADY_EXISTS when present, NOT_FOUND when the table is absent. Returns the etag. */
  create(table: string, row: Row, options?: CallOptions): Promise<string>;

  /** Inserts or replaces a whole row (properties not given are removed); always wins. Idempotent. */
  upsert(table: string, row: Row, options?: CallOptions): Promise<string>;

  /** Replaces a whole row only if its etag still matches: PRECONDITION_FAILED otherwise, NOT_FOUND when absent. */
  update(table: string, row: Row, etag: string, options?: CallOptions): Promise<string>;

  /**
   * Sets only the given properties, the others stay (NOT_FOUND when absent); with `etag`, only on
   * that version (PRECONDITION_FAILED).
   */
  merge(table: string, row: Row, options?: EtagOptions): Promise<string>;

  /** Deletes a row (only that version with `etag`: PRECONDITION_FAILED); succeeds when absent. */
  delete(table: string, partitionKey: string, rowKey: string, options?: EtagOptions): Promise<void>;

  /**
   * Rows matching an OData filter (`PartitionKey eq 'p' and RowKey ge 'a'`), in (partition, row)
   * key order, fetched `pageSize` a page (default and maximum 1000); `select` limits the properties
   * returned (keys and etag always are). NOT_FOUND when the table is absent.
   */
  query(table: string, options?: QueryOptions): AsyncIterableIterator<StoredRow>;

  /**
   * Applies operations in entity group transactions: grouped by partition, at most MAX_BATCH (100)
   * each, in the order given within a partition; each group is atomic (all its operations or none:
   * a failing create/update fails the whole group with that operation's code). Groups of different
   * partitions (or 100-op slices of one) are independent and run `concurrency` at a time (default 4):
   * when one fails, others may have been applied. A row may appear only once per group; a delete of
   * an absent row fails its group with NOT_FOUND (unlike `delete`).
   */
  batch(table: string, operations: RowOperation[], options?: BatchOptions): Promise<void>;
}

export interface CallOptions {
  abortSignal?: AbortSignal;
}

export interface EtagOptions extends CallOptions {
  etag?: string;
}

export interface QueryOptions extends CallOptions {
  filter?: string;
  select?: string[];
  /** Rows fetched per request, 1..1000 (default 1000). */
  pageSize?: number;
}

export interface BatchOptions extends CallOptions {
  concurrency?: number;
}

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

/** Azure Table Storage limit: operations in one entity group transaction. */
export const MAX_BATCH = 100;

/** The partition an operation writes to. */
export const partitionOf = (op: RowOperation): string => (op.kind === 'delete' ? op.partitionKey : op.row.partitionKey);
