import { randomBytes } from 'node:crypto';
import { hmac, open, seal, sealToPublicKey, type PrivateKey } from '../crypto';
import { BackupError, isBackupError } from '../errors';
import type { Row, RowOperation, StoredRow } from '../storage';
import { OPEN_END, catalogBlobName, padSeq } from './layout';
import { encodeItemRows, decodeItem, joinPayload, openRunKey, splitPayload, type ItemVersion, type NewVersion } from './itemRow';
import type { Repository } from './repository';
import { lockNewBlob } from './packLocks';
import { endMac, macValid, withMac } from './rowMac';
import { rowDecodePool, type RowDecodePool } from './rowDecodePool';

export interface SnapshotStats {
  items: number;
  bytes: number;
  changedItems: number;
  deletedItems: number;
  newChunks: number;
  newBytes: number;
  storedBytes: number;
  failedItems: number;
  durationMs: number;
}

export interface SnapshotInfo {
  partitionName: string;
  source: string;
  host: string;
  failures: { path: string; reason: string }[];
}

export interface SnapshotRecord {
  partition: string;
  seq: number;
  time: string;
  status: 'complete' | 'partial';
  stats: SnapshotStats;
  keyId: string;
  sealedInfo: Buffer;
  row: StoredRow;
}

/**
 * Every committed snapshot of the repository, all partitions, in table order (one scan of the
 * snapshot table; rows are MAC-checked as by `Catalog.snapshots`). For reports over a whole tenant.
 */
export async function* allSnapshots(repo: Repository): AsyncIterableIterator<SnapshotRecord> {
  for await (const row of repo.tables.query(repo.layout.snapshotTable, { filter: `RowKey lt 'a'` }))
    if (/^p[0-9a-f]{32}$/.test(row.partitionKey)) yield parseSnapshot(row);
}

/** What the backup needs of an item's current version to detect change without reading names. */
export interface CurrentVersion {
  rowKey: string;
  from: number;
  changeToken: string;
  groupToken?: string;
  contentToken?: string;
  row: StoredRow;
  continuation: number;
}

const STAT_FIELDS: (keyof SnapshotStats)[] = ['items', 'bytes', 'changedItems', 'deletedItems', 'newChunks', 'newBytes', 'storedBytes', 'failedItems', 'durationMs'];
const KEY_PREFIX = 'key.';
/** Versions checked and opened per worker job (a Table page is up to 1,000 rows). */
const DECODE_BATCH = 250;
const STATE_RK = 'state';

export function partitionToken(tokenKey: Buffer, name: string): string {
  return 'p' + hmac(tokenKey, 'partition:', name).subarray(0, 16).toString('hex');
}

export function itemToken(tokenKey: Buffer, partition: string, id: string): string {
  return hmac(tokenKey, 'item:', partition, '\0', id).subarray(0, 16).toString('hex');
}

export function changeToken(tokenKey: Buffer, ...facts: (string | number | undefined)[]): string {
  return hmac(tokenKey, 'change:', facts.map((f) => String(f ?? '')).join('\0')).subarray(0, 16).toString('hex');
}

/**
 * One snapshot namespace (a user, a machine, a mailbox): its snapshots and item versions.
 * Point in time: the items of snapshot X are the versions with f <= X < t.
 */
export class Catalog {
  readonly partition: string;

  constructor(
    readonly repo: Repository,
    readonly partitionName: string,
  ) {
    this.partition = partitionToken(repo.keys.tokenKey, partitionName);
  }

  itemToken(id: string): string {
    return itemToken(this.repo.keys.tokenKey, this.partition, id);
  }

  /**
   * Item rows are spread over 16 sub-partitions by the item token's first hex digit, so one big
   * mailbox or folder is not one hot Table partition. Range "<partition>-" .. "<partition>." covers them.
   */
  itemPartition(itemTokenHex: string): string {
    return `${this.partition}-${itemTokenHex[0]}`;
  }

  private get itemRange(): string {
    return `PartitionKey ge '${this.partition}-' and PartitionKey lt '${this.partition}.'`;
  }

  changeToken(...facts: (string | number | undefined)[]): string {
    return changeToken(this.repo.keys.tokenKey, ...facts);
  }

  /** Keyed token of a group of items (a folder id), stored in the clear as `g`. */
  groupToken(id: string): string {
    return itemToken(this.repo.keys.tokenKey, this.partition, `group\0${id}`);
  }

  private get items() {
    return this.repo.layout.itemTable;
  }
  private get snaps() {
    return this.repo.layout.snapshotTable;
  }

  /** Committed snapshots of this partition, oldest first. */
  async snapshots(): Promise<SnapshotRecord[]> {
    const out: SnapshotRecord[] = [];
    for await (const row of this.repo.tables.query(this.snaps, { filter: `PartitionKey eq '${this.partition}' and RowKey lt 'a'` }))
      out.push(parseSnapshot(row));
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** A new random key sealing this run's metadata, recorded (sealed to the public key) before any row uses it. */
  async createRunKey(): Promise<{ keyId: string; key: Buffer }> {
    const keyId = randomBytes(8).toString('hex');
    const key = randomBytes(32);
    const row = withMac(this.repo.keys.macKey, this.snaps, {
      partitionKey: this.partition,
      rowKey: KEY_PREFIX + keyId,
      sealedKey: sealToPublicKey(this.repo.keys.publicKey, key, `run-key:${keyId}`),
      created: new Date().toISOString(),
    });
    await this.repo.tables.create(this.snaps, row);
    return { keyId, key };
  }

  /** Opens every run key of this partition with the private key. */
  async openRunKeys(privateKey: PrivateKey): Promise<Map<string, Buffer>> {
    const keys = new Map<string, Buffer>();
    const filter = `PartitionKey eq '${this.partition}' and RowKey ge '${KEY_PREFIX}' and RowKey lt 'key/'`;
    for await (const row of this.repo.tables.query(this.snaps, { filter })) {
      const id = row.rowKey.slice(KEY_PREFIX.length);
      keys.set(id, openRunKey(privateKey, id, row.sealedKey as Uint8Array));
    }
    return keys;
  }

  /** Current (open) versions, keyed by item token: what an incremental compares against. */
  async currentVersions(): Promise<Map<string, CurrentVersion>> {
    const map = new Map<string, CurrentVersion>();
    const filter = `${this.itemRange} and t eq ${OPEN_END}`;
    for await (const row of this.repo.tables.query(this.items, { filter, select: ['PartitionKey', 'RowKey', 'f', 't', 'ct', 'g', 'cc', 'n', 'mac'] })) {
      const token = row.rowKey.split('.')[0]!;
      map.set(token, { rowKey: row.rowKey, from: Number(row.f), changeToken: String(row.ct), ...(row.g ? { groupToken: String(row.g) } : {}), ...(row.cc ? { contentToken: String(row.cc) } : {}), row, continuation: Number(row.n ?? 0) });
    }
    return map;
  }

  /**
   * Operations that make `v` the item's version from snapshot `seq` on, ending `previous`.
   * A previous version that began in this same (uncommitted) snapshot is replaced instead.
   */
  versionOps(seq: number, run: { keyId: string; key: Buffer }, v: NewVersion, previous?: CurrentVersion): RowOperation[] {
    const ops: RowOperation[] = [];
    const pk = this.itemPartition(v.itemToken);
    const rows = encodeItemRows(this.items, this.repo.keys.macKey, pk, seq, run, v);
    if (previous && previous.from === seq) {
      for (let i = rows.length; i <= previous.continuation; i++) ops.push({ kind: 'delete', partitionKey: pk, rowKey: `${previous.rowKey}~${i}` });
    } else if (previous) ops.push(...this.endOps(seq, previous));
    for (const row of rows) ops.push({ kind: 'upsert', row });
    return ops;
  }

  /** Ends a version at snapshot `seq` (the item was deleted or replaced). */
  endOps(seq: number, previous: CurrentVersion): RowOperation[] {
    const pk = previous.row.partitionKey;
    if (previous.from === seq) {
      const ops: RowOperation[] = [{ kind: 'delete', partitionKey: pk, rowKey: previous.rowKey }];
      for (let i = 1; i <= previous.continuation; i++) ops.push({ kind: 'delete', partitionKey: pk, rowKey: `${previous.rowKey}~${i}` });
      return ops;
    }
    const mac = previous.row.mac as Uint8Array;
    const tm = endMac(this.repo.keys.macKey, this.items, pk, previous.rowKey, seq, mac);
    return [{ kind: 'merge', row: { partitionKey: pk, rowKey: previous.rowKey, t: seq, tm }, etag: previous.row.etag }];
  }

  async apply(ops: RowOperation[]): Promise<void> {
    if (ops.length > 0) await this.repo.tables.batch(this.items, ops, { concurrency: 4 });
  }

  /**
   * Commits snapshot `seq`: writes the catalog blob (so the tables can be rebuilt from Hot blobs),
   * then the snapshot row. Until that row exists, readers ignore everything written under `seq`.
   */
  async commit(seq: number, run: { keyId: string; key: Buffer }, info: SnapshotInfo, stats: SnapshotStats, time: Date): Promise<SnapshotRecord> {
    const status = stats.failedItems > 0 ? 'partial' : 'complete';
    const row: Row = withMac(this.repo.keys.macKey, this.snaps, {
      partitionKey: this.partition,
      rowKey: padSeq(seq),
      seq,
      time: time.toISOString(),
      status,
      k: run.keyId,
      info: seal(run.key, Buffer.from(JSON.stringify(info)), Buffer.from(`${this.partition}/snapshot/${seq}`)),
      ...Object.fromEntries(STAT_FIELDS.map((f) => [f, stats[f]])),
    });
    await this.writeCatalogBlob(seq, row);
    try {
      await this.repo.tables.create(this.snaps, row);
    } catch (e) {
      throw new BackupError('LOCKED', `Snapshot ${seq} of this partition was committed concurrently by another backup.`, { cause: e });
    }
    // Locked once committed: until then a rerun after a crash may rewrite the catalog blob of this seq.
    await lockNewBlob(this.repo, this.repo.layout.metaContainer, catalogBlobName(this.partition, seq));
    return parseSnapshot({ ...row, etag: '' });
  }

  private async writeCatalogBlob(seq: number, snapshotRow: Row): Promise<void> {
    const filter = `${this.itemRange} and (f eq ${seq} or t eq ${seq})`;
    const added: Row[] = [];
    const ended: string[] = [];
    const keyIds = new Set<string>([String(snapshotRow.k)]);
    for await (const r of this.repo.tables.query(this.items, { filter })) {
      if (Number(r.f) === seq) {
        const { etag: _e, mac: _m, ...rest } = r;
        added.push(rest as Row);
        if (r.k) keyIds.add(String(r.k));
      } else ended.push(`${r.partitionKey}/${r.rowKey}`);
    }
    const keyRows: Row[] = [];
    for (const id of keyIds) {
      const k = await this.repo.tables.get(this.snaps, this.partition, KEY_PREFIX + id);
      if (k) {
        const { etag: _e, mac: _m, ...rest } = k;
        keyRows.push(rest as Row);
      }
    }
    const { mac: _m, ...snap } = snapshotRow;
    const body = Buffer.from(JSON.stringify({ snapshot: snap, keys: keyRows, added, ended }, binaryReplacer));
    const blob = seal(this.repo.keys.indexKey, body, Buffer.from(`catalog/${this.partition}/${seq}`));
    await this.repo.blobs.putBlob(this.repo.layout.metaContainer, catalogBlobName(this.partition, seq), blob, { tier: 'Hot' });

  }

  /** Item rows (head rows) valid at snapshot `seq`. */
  async *rowsAt(seq: number): AsyncIterableIterator<StoredRow> {
    const filter = `${this.itemRange} and f le ${seq} and t gt ${seq}`;
    yield* this.repo.tables.query(this.items, { filter });
  }

  /** The chunk IDs of a current version (in the clear: no password needed), read from its rows. */
  async chunkIdsOf(v: CurrentVersion): Promise<Buffer> {
    const head = await this.repo.tables.get(this.items, v.row.partitionKey, v.rowKey);
    if (!head) throw new BackupError('INTEGRITY', `Item row ${v.row.partitionKey}/${v.rowKey} is missing.`);
    return splitPayload(joinPayload(await this.fullRows(head)), `the payload of item row ${v.row.partitionKey}/${v.rowKey}`).chunkIds;
  }

  /** Rows of one item version, continuation rows included. */
  async fullRows(head: StoredRow): Promise<StoredRow[]> {
    const n = Number(head.n ?? 0);
    const rows = [head];
    for (let i = 1; i <= n; i++) {
      const r = await this.repo.tables.get(this.items, head.partitionKey, `${head.rowKey}~${i}`);
      if (!r) throw new BackupError('INTEGRITY', `Item row ${head.partitionKey}/${head.rowKey} is missing continuation row ${i}.`);
      rows.push(r);
    }
    return rows;
  }

  /**
   * Decoded versions valid at snapshot `seq` (needs the password-opened run keys). A damaged row
   * (MAC mismatch, missing continuation, unreadable payload) throws, or, with `onDamaged`, is
   * reported by its row name and skipped, so it fails only its own item.
   */
  async *versionsAt(seq: number, runKeys: Map<string, Buffer>, onDamaged?: (row: string, reason: string) => void): AsyncIterableIterator<ItemVersion> {
    for await (const head of this.rowsAt(seq)) {
      const row = `${head.partitionKey}/${head.rowKey}`;
      let version: ItemVersion;
      try {
        if (!macValid(this.repo.keys.macKey, this.items, head)) throw new BackupError('INTEGRITY', `Item row ${row} was altered or is corrupted.`);
        const rows = await this.fullRows(head);
        const bad = rows.find((r) => !macValid(this.repo.keys.macKey, this.items, r));
        if (bad) throw new BackupError('INTEGRITY', `Item row ${bad.partitionKey}/${bad.rowKey} was altered or is corrupted.`);
        version = decodeItem(rows, runKeys);
      } catch (e) {
        if (!onDamaged || !isBackupError(e, 'INTEGRITY')) throw e;
        onDamaged(row, e.message);
        continue;
      }
      yield version;
    }
  }

  /**
   * Every stored version that any snapshot up to `maxSeq` sees (f <= maxSeq), decoded, in one pass:
   * the 16 item sub-partitions are read as concurrent page streams (one Table partition each, not one
   * range scan), so a 10,000-item mailbox's whole history is read once instead of once per snapshot.
   * Which snapshot sees a version is the caller's arithmetic (f <= seq < t). Damaged rows as `versionsAt`.
   * `pool`: where rows are checked and opened (the process's decoding workers; `new RowDecodePool(0)`: here).
   */
  async versionsUpTo(maxSeq: number, runKeys: Map<string, Buffer>, onDamaged: (row: string, reason: string) => void, pool: RowDecodePool = rowDecodePool()): Promise<ItemVersion[]> {
    // Checking and opening the rows (the CPU side) runs on worker threads in batches, while the
    // page streams wait on the Table; results keep the stream order.
    const parts = await Promise.all(
      [...'0123456789abcdef'].map(async (hex) => {
        const batches: Promise<Awaited<ReturnType<typeof pool.decode>>>[] = [];
        let groups: StoredRow[][] = [];
        const filter = `PartitionKey eq '${this.partition}-${hex}' and f le ${maxSeq}`;
        for await (const head of this.repo.tables.query(this.items, { filter })) {
          if (head.rowKey.includes('~')) continue; // continuation rows are read with their head
          try {
            groups.push(Number(head.n ?? 0) > 0 ? await this.fullRows(head) : [head]);
          } catch (e) {
            if (!isBackupError(e, 'INTEGRITY')) throw e;
            onDamaged(`${head.partitionKey}/${head.rowKey}`, e.message); // a continuation row is missing
            continue;
          }
          if (groups.length >= DECODE_BATCH) {
            batches.push(pool.decode(this.repo.keys.macKey, this.items, runKeys, groups));
            groups = [];
          }
        }
        if (groups.length > 0) batches.push(pool.decode(this.repo.keys.macKey, this.items, runKeys, groups));
        return (await Promise.all(batches)).flat();
      }),
    );
    const out: ItemVersion[] = [];
    for (const d of parts.flat()) {
      if ('reason' in d) onDamaged(d.row, d.reason);
      else out.push(d);
    }
    return out;
  }

  /**
   * The partition's source state (delta cursors, items to retry), sealed with the index key so an
   * unattended backup can read it without the password. Written only after a snapshot commits, so
   * a cursor never runs ahead of the data it covers.
   */
  async readState<T>(): Promise<T | undefined> {
    return (await this.readStateRow<T>())?.value;
  }

  /** The state and its row's ETag (for a conditional write: optimistic concurrency without the partition lock). */
  async readStateRow<T>(): Promise<{ value: T; etag: string } | undefined> {
    const row = await this.repo.tables.get(this.snaps, this.partition, STATE_RK);
    if (!row) return undefined;
    const plain = open(this.repo.keys.indexKey, Buffer.from(row.state as Uint8Array), Buffer.from(`state/${this.partition}`), `the source state of partition ${this.partition}`);
    return { value: JSON.parse(plain.toString('utf8')) as T, etag: row.etag };
  }

  /**
   * Writes the state. With `ifMatch`, only over that version of the row: PRECONDITION_FAILED when
   * another writer changed it meanwhile (then nothing is written).
   */
  async writeState(value: unknown, options: { ifMatch?: string } = {}): Promise<void> {
    const state = seal(this.repo.keys.indexKey, Buffer.from(JSON.stringify(value)), Buffer.from(`state/${this.partition}`));
    const row = withMac(this.repo.keys.macKey, this.snaps, { partitionKey: this.partition, rowKey: STATE_RK, state, updated: new Date().toISOString() });
    if (options.ifMatch) {
      try {
        await this.repo.tables.update(this.snaps, row, options.ifMatch);
      } catch (e) {
        if (isBackupError(e, 'NOT_FOUND')) throw new BackupError('PRECONDITION_FAILED', `The state of partition ${this.partition} was removed meanwhile.`);
        throw e;
      }
    } else await this.repo.tables.upsert(this.snaps, row);
  }

  openInfo(record: SnapshotRecord, runKeys: Map<string, Buffer>): SnapshotInfo {
    const key = runKeys.get(record.keyId);
    if (!key) throw new BackupError('INTEGRITY', `Snapshot ${record.seq} refers to an unknown run key.`);
    const plain = open(key, record.sealedInfo, Buffer.from(`${this.partition}/snapshot/${record.seq}`), `snapshot ${record.seq}`);
    return JSON.parse(plain.toString('utf8')) as SnapshotInfo;
  }
}

export function parseSnapshot(row: StoredRow): SnapshotRecord {
  const stats = Object.fromEntries(STAT_FIELDS.map((f) => [f, Number(row[f] ?? 0)])) as unknown as SnapshotStats;
  return {
    partition: row.partitionKey,
    seq: Number(row.seq),
    time: String(row.time),
    status: row.status === 'partial' ? 'partial' : 'complete',
    stats,
    keyId: String(row.k),
    sealedInfo: Buffer.from(row.info as Uint8Array),
    row,
  };
}

/** JSON with Uint8Array values as {"$b": base64}: the catalog blob's encoding. */
export function binaryReplacer(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data))
    return { $b: Buffer.from((v as { data: number[] }).data).toString('base64') };
  if (v instanceof Uint8Array) return { $b: Buffer.from(v).toString('base64') };
  return v;
}

export function binaryReviver(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && typeof (v as { $b?: unknown }).$b === 'string') return Buffer.from((v as { $b: string }).$b, 'base64');
  return v;
}

/** All partitions that have committed snapshots. */
export async function listPartitionSnapshots(repo: Repository): Promise<SnapshotRecord[]> {
  const out: SnapshotRecord[] = [];
  for await (const row of repo.tables.query(repo.layout.snapshotTable, { filter: `RowKey lt 'a'` })) out.push(parseSnapshot(row));
  return out.sort((a, b) => a.partition.localeCompare(b.partition) || a.seq - b.seq);
}
