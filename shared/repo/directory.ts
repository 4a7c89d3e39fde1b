import { hmac, open, seal } from '../crypto';
import { BackupError } from '../errors';
import type { RowOperation, StoredRow } from '../storage';
import { Catalog, partitionToken } from './catalog';
import type { Repository } from './repository';
import { macValid, withMac } from './rowMac';

/**
 * A directory of members (a tenant's users) as one row per member, so that nothing grows with the
 * tenant in one property: rows `u.<member token>` hold each member's sealed record, rows
 * `n.<name token>` map a (case-insensitive) unique name to its member row, rows `r.<name>` hold small
 * sealed records of the directory (e.g. the last run's reference). All live in the snapshots table
 * under PartitionKey `d<32 hex>` (the hex of the partition token of the directory's partition name),
 * each sealed with the pack-index key and MACed. Members are read by id, by name, or by page, never
 * all at once. docs/repository-format.md, "Tenant directory".
 *
 * Directories written before this format kept every member in the `state` property of the
 * partition's Catalog: readers fall back to it while no member row exists, and `migrate` turns it
 * into rows (the next backup run does so).
 */
export const DIRECTORY_PARTITION_PREFIX = 'd';
export const MEMBER_PREFIX = 'u.';
export const NAME_PREFIX = 'n.';
export const RECORD_PREFIX = 'r.';

export interface DirectoryShape<T> {
  /** The member's immutable id and unique name (compared case-insensitively). */
  idOf(v: T): string;
  nameOf(v: T): string;
  /** The members of a legacy `state` value (directories of earlier releases). */
  legacyMembers(state: unknown): T[];
}

export interface DirectoryPage<T> {
  members: T[];
  /** The cursor of the next page; absent on the last page. */
  next?: string;
}

/** Members per page by default (and at most): one Table query page. */
export const DIRECTORY_PAGE = 1000;

const odata = (s: string) => s.replace(/'/g, "''");

export class Directory<T> {
  readonly partition: string;
  private readonly legacyCatalog: Catalog;

  constructor(
    private readonly repo: Repository,
    partitionName: string,
    private readonly shape: DirectoryShape<T>,
  ) {
    this.legacyCatalog = new Catalog(repo, partitionName);
    this.partition = DIRECTORY_PARTITION_PREFIX + partitionToken(repo.keys.tokenKey, partitionName).slice(1);
  }

  memberKey(id: string): string {
    return MEMBER_PREFIX + hmac(this.repo.keys.tokenKey, 'directory-member:', this.partition, '\0', id.toLowerCase()).subarray(0, 16).toString('hex');
  }

  nameKey(name: string): string {
    return NAME_PREFIX + hmac(this.repo.keys.tokenKey, 'directory-name:', this.partition, '\0', name.toLowerCase()).subarray(0, 16).toString('hex');
  }

  /** A member by id, or undefined. */
  async get(id: string): Promise<T | undefined> {
    const v = await this.getRow(this.memberKey(id));
    if (v) return v;
    return (await this.legacy())?.find((m) => this.shape.idOf(m).toLowerCase() === id.toLowerCase());
  }

  /** A member by id or by name (case-insensitive), or undefined. */
  async find(ref: string): Promise<T | undefined> {
    const byId = await this.getRow(this.memberKey(ref));
    if (byId) return byId;
    const pointer = await this.repo.tables.get(this.table, this.partition, this.nameKey(ref));
    if (pointer) {
      this.check(pointer);
      const m = await this.getRow(String(pointer.member));
      // A name row left pointing at a member renamed since is stale: the name is not (or no longer) that member's.
      if (m && this.shape.nameOf(m).toLowerCase() === ref.toLowerCase()) return m;
    }
    const w = ref.toLowerCase();
    return (await this.legacy())?.find((m) => this.shape.idOf(m).toLowerCase() === w || this.shape.nameOf(m).toLowerCase() === w);
  }

  /** One page of members (in member-token order, i.e. no meaningful order), at most `limit`. */
  async page(o: { after?: string; limit?: number } = {}): Promise<DirectoryPage<T>> {
    const limit = Math.max(1, Math.min(o.limit ?? DIRECTORY_PAGE, DIRECTORY_PAGE));
    if (o.after !== undefined && !/^u\.[0-9a-f]{32}$/.test(o.after)) throw new BackupError('USAGE', 'The directory cursor is not valid.');
    const from = o.after ?? MEMBER_PREFIX;
    const filter = `PartitionKey eq '${odata(this.partition)}' and RowKey ${o.after ? 'gt' : 'ge'} '${odata(from)}' and RowKey lt 'u/'`;
    const members: T[] = [];
    let last: string | undefined;
    for await (const row of this.repo.tables.query(this.table, { filter, pageSize: Math.min(limit + 1, DIRECTORY_PAGE) })) {
      if (members.length === limit) return { members, next: last };
      members.push(this.decode(row));
      last = row.rowKey;
    }
    if (members.length === 0 && o.after === undefined) return { members: (await this.legacy()) ?? [] };
    return { members };
  }

  /** Every member, page by page (for callers that stream; memory holds one page). */
  async *members(pageSize = DIRECTORY_PAGE): AsyncIterableIterator<T> {
    let after: string | undefined;
    do {
      const p = await this.page({ after, limit: pageSize });
      yield* p.members;
      after = p.next;
    } while (after !== undefined);
  }

  /**
   * Writes members (new or changed), keeping the name rows in step: a renamed member's old name row
   * is removed. `previous` is what the caller read of each member before (undefined: new).
   */
  async put(changes: { value: T; previous?: T }[]): Promise<void> {
    const upserts = new Map<string, RowOperation>();
    const stale = new Map<string, string>();
    for (const { value, previous } of changes) {
      const key = this.memberKey(this.shape.idOf(value));
      const name = this.shape.nameOf(value).toLowerCase();
      const oldName = previous ? this.shape.nameOf(previous).toLowerCase() : undefined;
      if (oldName !== undefined && oldName !== name) stale.set(this.nameKey(oldName), key);
      upserts.set(key, { kind: 'upsert', row: this.sealedRow(key, value) });
      if (oldName !== name) {
        const k = this.nameKey(name);
        upserts.set(k, { kind: 'upsert', row: withMac(this.repo.keys.macKey, this.table, { partitionKey: this.partition, rowKey: k, member: key }) });
      }
    }
    // A name handed from one member to another in the same call (a swap) is rewritten, not removed.
    for (const k of upserts.keys()) stale.delete(k);
    if (upserts.size > 0) await this.repo.tables.batch(this.table, [...upserts.values()]);
    // Old name rows go after the new rows exist (a crash in between leaves a stale row, which `find` ignores).
    // Only a name row that still points at the renamed member is removed (the name may have moved on).
    for (const [k, member] of stale) {
      const row = await this.repo.tables.get(this.table, this.partition, k);
      if (row && row.member === member) await this.repo.tables.delete(this.table, this.partition, k, { etag: row.etag });
    }
  }

  /** A small sealed record of the directory (e.g. `last`: the last run's reference). */
  async putRecord(name: string, value: unknown): Promise<void> {
    await this.repo.tables.upsert(this.table, this.sealedRow(this.recordKey(name), value));
  }

  async getRecord<R>(name: string): Promise<R | undefined> {
    return this.getRow<R>(this.recordKey(name));
  }

  /**
   * Turns a legacy one-property directory into member rows (members already present as rows are
   * kept), then removes the legacy `state` row. Returns how many members it moved. Idempotent: a
   * crash in between is finished by the next call.
   */
  async migrate(): Promise<number> {
    const legacy = await this.legacy();
    if (!legacy) return 0;
    const changes: { value: T }[] = [];
    for (const m of legacy) if (!(await this.getRow(this.memberKey(this.shape.idOf(m))))) changes.push({ value: m });
    await this.put(changes);
    await this.repo.tables.delete(this.table, this.legacyCatalog.partition, 'state');
    return changes.length;
  }

  private get table(): string {
    return this.repo.layout.snapshotTable;
  }

  private recordKey(name: string): string {
    if (!/^[a-z0-9-]{1,40}$/.test(name)) throw new RangeError(`"${name}" is not a directory record name.`);
    return RECORD_PREFIX + name;
  }

  private aad(rowKey: string): Buffer {
    return Buffer.from(`directory/${this.partition}/${rowKey}`);
  }

  private sealedRow(rowKey: string, value: unknown) {
    const body = seal(this.repo.keys.indexKey, Buffer.from(JSON.stringify(value)), this.aad(rowKey));
    return withMac(this.repo.keys.macKey, this.table, { partitionKey: this.partition, rowKey, body });
  }

  private async getRow<R = T>(rowKey: string): Promise<R | undefined> {
    const row = await this.repo.tables.get(this.table, this.partition, rowKey);
    return row ? this.decode<R>(row) : undefined;
  }

  private check(row: StoredRow): void {
    if (!macValid(this.repo.keys.macKey, this.table, row)) throw new BackupError('INTEGRITY', `The tenant directory was altered (row ${row.rowKey}).`);
  }

  private decode<R = T>(row: StoredRow): R {
    this.check(row);
    if (!(row.body instanceof Uint8Array)) throw new BackupError('INTEGRITY', `The tenant directory was altered (row ${row.rowKey} has no body).`);
    return JSON.parse(open(this.repo.keys.indexKey, Buffer.from(row.body), this.aad(row.rowKey), 'a tenant directory row').toString('utf8')) as R;
  }

  /** The members of a legacy directory (one sealed `state` property), or undefined when there is none. */
  private async legacy(): Promise<T[] | undefined> {
    const state = await this.legacyCatalog.readState<unknown>();
    return state === undefined ? undefined : this.shape.legacyMembers(state);
  }
}

/** Whether a directory row is authentic (verify): a valid MAC and, for member and record rows, a sealed body. */
export function directoryRowAuthentic(repo: Repository, row: StoredRow): boolean {
  if (!macValid(repo.keys.macKey, repo.layout.snapshotTable, row)) return false;
  if (row.rowKey.startsWith(NAME_PREFIX)) return typeof row.member === 'string' && row.member.startsWith(MEMBER_PREFIX);
  return (row.rowKey.startsWith(MEMBER_PREFIX) || row.rowKey.startsWith(RECORD_PREFIX)) && row.body instanceof Uint8Array;
}
