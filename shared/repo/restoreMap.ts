import { createHmac } from 'node:crypto';
import { BackupError } from '../errors';
import type { Repository } from './repository';
import { macValid, withMac } from './rowMac';

/**
 * The restore map of a restore back into Microsoft 365: for one scope (tenant, source user, target
 * user, service, destination root) each source item id -> the id created for it in the target. It
 * outlives a restore on purpose (the restore area's rows end with their restore; these do not): a
 * rerun of the same restore, a retried work unit or a host killed mid-way finds what was already
 * created and creates nothing twice. Row keys are keyed hashes of the ids (no Graph id or name is
 * readable in the table; RowKeys cannot hold every character Graph ids use); rows are MACed.
 * Table: `<repo>restoremap`, created on first use.
 */
export class RestoreMapStore {
  private readonly table: string;
  private readonly partition: string;
  private static ready = new WeakSet<Repository>();

  constructor(
    private readonly repo: Repository,
    scope: string,
  ) {
    this.table = `${repo.layout.restoreTable}map`;
    this.partition = this.token(`scope\0${scope}`);
  }

  private token(s: string): string {
    return createHmac('sha256', this.repo.keys.macKey).update(`restore-map\0${s}`).digest('hex').slice(0, 48);
  }

  /** The table's name, created on first use. */
  static async tableOf(repo: Repository): Promise<string> {
    const table = `${repo.layout.restoreTable}map`;
    if (!RestoreMapStore.ready.has(repo)) {
      await repo.tables.ensureTable(table);
      RestoreMapStore.ready.add(repo);
    }
    return table;
  }

  private async ensure(): Promise<void> {
    await RestoreMapStore.tableOf(this.repo);
  }

  async get(sourceId: string): Promise<string | undefined> {
    await this.ensure();
    const row = await this.repo.tables.get(this.table, this.partition, this.token(sourceId));
    if (!row) return undefined;
    if (!macValid(this.repo.keys.macKey, this.table, row)) throw new BackupError('INTEGRITY', 'A row of the restore map was altered or is corrupted.');
    return typeof row.createdId === 'string' ? row.createdId : undefined;
  }

  async set(sourceId: string, createdId: string): Promise<void> {
    await this.ensure();
    await this.repo.tables.upsert(this.table, withMac(this.repo.keys.macKey, this.table, { partitionKey: this.partition, rowKey: this.token(sourceId), createdId, at: new Date().toISOString() }));
  }

  async delete(sourceId: string): Promise<void> {
    await this.ensure();
    await this.repo.tables.delete(this.table, this.partition, this.token(sourceId));
  }
}
