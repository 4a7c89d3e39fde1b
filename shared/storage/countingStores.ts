import type { BlobCapabilities, BlobInfo, BlobStore, CallOptions, DeleteBlobOptions, GetBlobOptions, ImmutabilityPolicy, ListOptions, PutBlobOptions, SetTierOptions, AccessTier } from './blobStore';
import type { BatchOptions, EtagOptions, QueryOptions, Row, RowOperation, StoredRow, TableStore } from './tableStore';
import { MAX_BATCH, partitionOf } from './tableStore';

/**
 * Request counters behind the storage interfaces, for tests and benchmarks that measure what an
 * operation costs: one count per request the wrapped store would send (a listing or query page is
 * one request, a batch one per entity group transaction). Nothing else changes.
 */
export interface StorageCounts {
  /** Requests by method name ("putBlob", "get", "query", ...). */
  byMethod: Record<string, number>;
  /** Blob-changing requests (put, stage, commit, delete, tier, tags, policies). */
  blobWrites: number;
  blobReads: number;
  tableWrites: number;
  tableReads: number;
  /** Blob names written, for assertions ("no blob write", "only a Bloom delta"). */
  blobsWritten: string[];
}

export const emptyCounts = (): StorageCounts => ({ byMethod: {}, blobWrites: 0, blobReads: 0, tableWrites: 0, tableReads: 0, blobsWritten: [] });
export const totalRequests = (c: StorageCounts) => c.blobWrites + c.blobReads + c.tableWrites + c.tableReads;

export class CountingBlobStore implements BlobStore {
  counts: StorageCounts;
  constructor(
    private readonly inner: BlobStore,
    counts: StorageCounts = emptyCounts(),
  ) {
    this.counts = counts;
  }
  get capabilities(): BlobCapabilities {
    return this.inner.capabilities;
  }
  private read(method: string): void {
    this.counts.byMethod[method] = (this.counts.byMethod[method] ?? 0) + 1;
    this.counts.blobReads++;
  }
  private write(method: string, name?: string): void {
    this.counts.byMethod[method] = (this.counts.byMethod[method] ?? 0) + 1;
    this.counts.blobWrites++;
    if (name !== undefined) this.counts.blobsWritten.push(name);
  }
  ensureContainer(c: string, o?: CallOptions) {
    this.write('ensureContainer');
    return this.inner.ensureContainer(c, o);
  }
  containerExists(c: string, o?: CallOptions) {
    this.read('containerExists');
    return this.inner.containerExists(c, o);
  }
  deleteContainer(c: string, o?: CallOptions) {
    this.write('deleteContainer');
    return this.inner.deleteContainer(c, o);
  }
  putBlob(c: string, n: string, d: Uint8Array, o?: PutBlobOptions) {
    this.write('putBlob', n);
    return this.inner.putBlob(c, n, d, o);
  }
  stageBlock(c: string, n: string, id: string, d: Uint8Array | Uint8Array[], o?: CallOptions) {
    this.write('stageBlock', n);
    return this.inner.stageBlock(c, n, id, d, o);
  }
  commitBlocks(c: string, n: string, ids: string[], o?: PutBlobOptions) {
    this.write('commitBlocks', n);
    return this.inner.commitBlocks(c, n, ids, o);
  }
  getBlob(c: string, n: string, o?: GetBlobOptions) {
    this.read('getBlob');
    return this.inner.getBlob(c, n, o);
  }
  stat(c: string, n: string, o?: CallOptions) {
    this.read('stat');
    return this.inner.stat(c, n, o);
  }
  async *list(c: string, o?: ListOptions): AsyncIterableIterator<BlobInfo> {
    const page = o?.pageSize ?? 5000;
    let seen = 0;
    this.read('list');
    for await (const b of this.inner.list(c, o)) {
      if (++seen > page && seen % page === 1) this.read('list');
      yield b;
    }
  }
  deleteBlob(c: string, n: string, o?: DeleteBlobOptions) {
    this.write('deleteBlob', n);
    return this.inner.deleteBlob(c, n, o);
  }
  getTags(c: string, n: string, o?: CallOptions) {
    this.read('getTags');
    return this.inner.getTags(c, n, o);
  }
  setTags(c: string, n: string, t: Record<string, string>, o?: CallOptions) {
    this.write('setTags', n);
    return this.inner.setTags(c, n, t, o);
  }
  setTier(c: string, n: string, t: AccessTier, o?: SetTierOptions) {
    this.write('setTier', n);
    return this.inner.setTier(c, n, t, o);
  }
  setImmutability(c: string, n: string, p: ImmutabilityPolicy, o?: CallOptions) {
    this.write('setImmutability', n);
    return this.inner.setImmutability(c, n, p, o);
  }
  removeImmutability(c: string, n: string, o?: CallOptions) {
    this.write('removeImmutability', n);
    return this.inner.removeImmutability(c, n, o);
  }
  setLegalHold(c: string, n: string, h: boolean, o?: CallOptions) {
    this.write('setLegalHold', n);
    return this.inner.setLegalHold(c, n, h, o);
  }
  readOnlyUrl(c: string, n: string, e: Date, o?: CallOptions) {
    return this.inner.readOnlyUrl(c, n, e, o);
  }
}

export class CountingTableStore implements TableStore {
  counts: StorageCounts;
  constructor(
    private readonly inner: TableStore,
    counts: StorageCounts = emptyCounts(),
  ) {
    this.counts = counts;
  }
  private read(method: string, n = 1): void {
    this.counts.byMethod[method] = (this.counts.byMethod[method] ?? 0) + n;
    this.counts.tableReads += n;
  }
  private write(method: string, n = 1): void {
    this.counts.byMethod[method] = (this.counts.byMethod[method] ?? 0) + n;
    this.counts.tableWrites += n;
  }
  ensureTable(t: string, o?: CallOptions) {
    this.write('ensureTable');
    return this.inner.ensureTable(t, o);
  }
  deleteTable(t: string, o?: CallOptions) {
    this.write('deleteTable');
    return this.inner.deleteTable(t, o);
  }
  listTables(o?: CallOptions) {
    this.read('listTables');
    return this.inner.listTables(o);
  }
  get(t: string, pk: string, rk: string, o?: CallOptions): Promise<StoredRow | undefined> {
    this.read('get');
    return this.inner.get(t, pk, rk, o);
  }
  create(t: string, r: Row, o?: CallOptions) {
    this.write('create');
    return this.inner.create(t, r, o);
  }
  upsert(t: string, r: Row, o?: CallOptions) {
    this.write('upsert');
    return this.inner.upsert(t, r, o);
  }
  update(t: string, r: Row, etag: string, o?: CallOptions) {
    this.write('update');
    return this.inner.update(t, r, etag, o);
  }
  merge(t: string, r: Row, o?: EtagOptions) {
    this.write('merge');
    return this.inner.merge(t, r, o);
  }
  delete(t: string, pk: string, rk: string, o?: EtagOptions) {
    this.write('delete');
    return this.inner.delete(t, pk, rk, o);
  }
  async *query(t: string, o?: QueryOptions): AsyncIterableIterator<StoredRow> {
    const page = o?.pageSize ?? 1000;
    let seen = 0;
    this.read('query');
    for await (const r of this.inner.query(t, o)) {
      if (++seen > page && seen % page === 1) this.read('query');
      yield r;
    }
  }
  batch(t: string, ops: RowOperation[], o?: BatchOptions) {
    const groups = new Map<string, number>();
    for (const op of ops) groups.set(partitionOf(op), (groups.get(partitionOf(op)) ?? 0) + 1);
    let n = 0;
    for (const c of groups.values()) n += Math.ceil(c / MAX_BATCH);
    this.write('batch', n);
    return this.inner.batch(t, ops, o);
  }
}
