import { BackupError } from '../errors';
import type {
  AccessTier,
  BlobCapabilities,
  BlobInfo,
  BlobStore,
  CallOptions,
  DeleteBlobOptions,
  GetBlobOptions,
  ImmutabilityPolicy,
  ListOptions,
  PutBlobOptions,
  SetTierOptions,
} from './blobStore';
import type { BatchOptions, EtagOptions, QueryOptions, Row, RowOperation, StoredRow, TableStore } from './tableStore';

/**
 * - `transient`: STORAGE before the call (nothing happened; a retry should succeed);
 * - `unreachable`: STORAGE_UNREACHABLE before the call;
 * - `lostAck`: the call succeeds, then STORAGE is thrown (the write happened, the reply was lost).
 */
export type FaultKind = 'transient' | 'unreachable' | 'lostAck';

export interface FaultOptions<M extends string> {
  /** PRNG seed: the same seed and call sequence fail the same calls. */
  seed?: number;
  /** Probability (0..1) that a call fails: one number for every method, or per method (others 0). */
  rate?: number | Partial<Record<M, number>>;
  /** Kinds drawn from (uniformly) when a call fails; default all three. */
  kinds?: FaultKind[];
}

/** One injected failure, for tests to assert on. */
export interface InjectedFault {
  method: string;
  kind: FaultKind;
  target: string;
}

export type BlobMethod = Exclude<keyof BlobStore, 'capabilities'>;
export type TableMethod = keyof TableStore;

/** Seeded decisions shared by both fault wrappers. */
class FaultPlan<M extends string> {
  private state: number;
  private readonly queued: { method: M; kind: FaultKind }[] = [];
  readonly injected: InjectedFault[] = [];

  constructor(private readonly options: FaultOptions<M>) {
    this.state = (options.seed ?? 1) >>> 0 || 1;
  }

  /** mulberry32: small, fast, good enough to spread failures. */
  private random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  failNext(method: M, kind: FaultKind): void {
    this.queued.push({ method, kind });
  }

  decide(method: M, target: string): FaultKind | undefined {
    const i = this.queued.findIndex((q) => q.method === method);
    let kind: FaultKind | undefined;
    if (i >= 0) kind = this.queued.splice(i, 1)[0]!.kind;
    else {
      const r = this.options.rate;
      const rate = typeof r === 'number' ? r : (r?.[method] ?? 0);
      if (rate > 0 && this.random() < rate) {
        const kinds = this.options.kinds?.length ? this.options.kinds : (['transient', 'unreachable', 'lostAck'] as FaultKind[]);
        kind = kinds[Math.floor(this.random() * kinds.length)]!;
      }
    }
    if (kind) this.injected.push({ method, kind, target });
    return kind;
  }

  async run<T>(method: M, target: string, fn: () => Promise<T>): Promise<T> {
    const kind = this.decide(method, target);
    if (kind === 'transient') throw new BackupError('STORAGE', `${method} ${target}: injected transient storage failure (before the call).`);
    if (kind === 'unreachable') throw new BackupError('STORAGE_UNREACHABLE', `${method} ${target}: injected: the storage account cannot be reached.`);
    const result = await fn();
    if (kind === 'lostAck') throw new BackupError('STORAGE', `${method} ${target}: injected lost reply (the call succeeded).`);
    return result;
  }

  /** Faults of a listing are decided when iteration starts (before the first page). */
  async *iterate<T>(method: M, target: string, make: () => AsyncIterableIterator<T>): AsyncIterableIterator<T> {
    const kind = this.decide(method, target);
    if (kind === 'transient') throw new BackupError('STORAGE', `${method} ${target}: injected transient storage failure (before the call).`);
    if (kind === 'unreachable') throw new BackupError('STORAGE_UNREACHABLE', `${method} ${target}: injected: the storage account cannot be reached.`);
    yield* make();
    if (kind === 'lostAck') throw new BackupError('STORAGE', `${method} ${target}: injected failure after the last page.`);
  }
}

/** The blob contract with seeded, injected failures, to test crash and retry behaviour. */
export class FaultyBlobStore implements BlobStore {
  readonly capabilities: BlobCapabilities;
  private readonly plan: FaultPlan<BlobMethod>;

  constructor(
    private readonly inner: BlobStore,
    options: FaultOptions<BlobMethod> = {},
  ) {
    this.capabilities = inner.capabilities;
    this.plan = new FaultPlan(options);
  }

  /** Every failure injected so far. */
  get injected(): readonly InjectedFault[] {
    return this.plan.injected;
  }

  /** Makes the next call of `method` fail with `kind`, whatever the rate (queued, in order). */
  failNext(method: BlobMethod, kind: FaultKind): void {
    this.plan.failNext(method, kind);
  }

  ensureContainer(container: string, options?: CallOptions): Promise<void> {
    return this.plan.run('ensureContainer', container, () => this.inner.ensureContainer(container, options));
  }
  containerExists(container: string, options?: CallOptions): Promise<boolean> {
    return this.plan.run('containerExists', container, () => this.inner.containerExists(container, options));
  }
  deleteContainer(container: string, options?: CallOptions): Promise<void> {
    return this.plan.run('deleteContainer', container, () => this.inner.deleteContainer(container, options));
  }
  putBlob(container: string, name: string, data: Uint8Array, options?: PutBlobOptions): Promise<string> {
    return this.plan.run('putBlob', `${container}/${name}`, () => this.inner.putBlob(container, name, data, options));
  }
  stageBlock(container: string, name: string, blockId: string, data: Uint8Array | Uint8Array[], options?: CallOptions): Promise<void> {
    return this.plan.run('stageBlock', `${container}/${name}`, () => this.inner.stageBlock(container, name, blockId, data, options));
  }
  commitBlocks(container: string, name: string, blockIds: string[], options?: PutBlobOptions): Promise<string> {
    return this.plan.run('commitBlocks', `${container}/${name}`, () => this.inner.commitBlocks(container, name, blockIds, options));
  }
  getBlob(container: string, name: string, options?: GetBlobOptions): Promise<Buffer> {
    return this.plan.run('getBlob', `${container}/${name}`, () => this.inner.getBlob(container, name, options));
  }
  stat(container: string, name: string, options?: CallOptions): Promise<BlobInfo | undefined> {
    return this.plan.run('stat', `${container}/${name}`, () => this.inner.stat(container, name, options));
  }
  list(container: string, options?: ListOptions): AsyncIterableIterator<BlobInfo> {
    return this.plan.iterate('list', container, () => this.inner.list(container, options));
  }
  deleteBlob(container: string, name: string, options?: DeleteBlobOptions): Promise<boolean> {
    return this.plan.run('deleteBlob', `${container}/${name}`, () => this.inner.deleteBlob(container, name, options));
  }
  getTags(container: string, name: string, options?: CallOptions): Promise<Record<string, string>> {
    return this.plan.run('getTags', `${container}/${name}`, () => this.inner.getTags(container, name, options));
  }
  setTags(container: string, name: string, tags: Record<string, string>, options?: CallOptions): Promise<void> {
    return this.plan.run('setTags', `${container}/${name}`, () => this.inner.setTags(container, name, tags, options));
  }
  setTier(container: string, name: string, tier: AccessTier, options?: SetTierOptions): Promise<void> {
    return this.plan.run('setTier', `${container}/${name}`, () => this.inner.setTier(container, name, tier, options));
  }
  setImmutability(container: string, name: string, policy: ImmutabilityPolicy, options?: CallOptions): Promise<void> {
    return this.plan.run('setImmutability', `${container}/${name}`, () => this.inner.setImmutability(container, name, policy, options));
  }
  removeImmutability(container: string, name: string, options?: CallOptions): Promise<void> {
    return this.plan.run('removeImmutability', `${container}/${name}`, () => this.inner.removeImmutability(container, name, options));
  }
  setLegalHold(container: string, name: string, hold: boolean, options?: CallOptions): Promise<void> {
    return this.plan.run('setLegalHold', `${container}/${name}`, () => this.inner.setLegalHold(container, name, hold, options));
  }
  readOnlyUrl(container: string, name: string, expiresOn: Date, options?: CallOptions): Promise<string> {
    return this.plan.run('readOnlyUrl', `${container}/${name}`, () => this.inner.readOnlyUrl(container, name, expiresOn, options));
  }
}

/** The table contract with seeded, injected failures. A batch fails or succeeds as a whole call. */
export class FaultyTableStore implements TableStore {
  private readonly plan: FaultPlan<TableMethod>;

  constructor(
    private readonly inner: TableStore,
    options: FaultOptions<TableMethod> = {},
  ) {
    this.plan = new FaultPlan(options);
  }

  get injected(): readonly InjectedFault[] {
    return this.plan.injected;
  }

  failNext(method: TableMethod, kind: FaultKind): void {
    this.plan.failNext(method, kind);
  }

  ensureTable(name: string, options?: CallOptions): Promise<void> {
    return this.plan.run('ensureTable', name, () => this.inner.ensureTable(name, options));
  }
  deleteTable(name: string, options?: CallOptions): Promise<void> {
    return this.plan.run('deleteTable', name, () => this.inner.deleteTable(name, options));
  }
  listTables(options?: CallOptions): Promise<string[]> {
    return this.plan.run('listTables', '', () => this.inner.listTables(options));
  }
  get(table: string, partitionKey: string, rowKey: string, options?: CallOptions): Promise<StoredRow | undefined> {
    return this.plan.run('get', `${table}/${partitionKey}/${rowKey}`, () => this.inner.get(table, partitionKey, rowKey, options));
  }
  create(table: string, row: Row, options?: CallOptions): Promise<string> {
    return this.plan.run('create', `${table}/${row.partitionKey}/${row.rowKey}`, () => this.inner.create(table, row, options));
  }
  upsert(table: string, row: Row, options?: CallOptions): Promise<string> {
    return this.plan.run('upsert', `${table}/${row.partitionKey}/${row.rowKey}`, () => this.inner.upsert(table, row, options));
  }
  update(table: string, row: Row, etag: string, options?: CallOptions): Promise<string> {
    return this.plan.run('update', `${table}/${row.partitionKey}/${row.rowKey}`, () => this.inner.update(table, row, etag, options));
  }
  merge(table: string, row: Row, options?: EtagOptions): Promise<string> {
    return this.plan.run('merge', `${table}/${row.partitionKey}/${row.rowKey}`, () => this.inner.merge(table, row, options));
  }
  delete(table: string, partitionKey: string, rowKey: string, options?: EtagOptions): Promise<void> {
    return this.plan.run('delete', `${table}/${partitionKey}/${rowKey}`, () => this.inner.delete(table, partitionKey, rowKey, options));
  }
  query(table: string, options?: QueryOptions): AsyncIterableIterator<StoredRow> {
    return this.plan.iterate('query', table, () => this.inner.query(table, options));
  }
  batch(table: string, operations: RowOperation[], options?: BatchOptions): Promise<void> {
    return this.plan.run('batch', table, () => this.inner.batch(table, operations, options));
  }
}
