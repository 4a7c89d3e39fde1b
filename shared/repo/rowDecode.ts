import { BackupError, isBackupError } from '../errors';
import type { StoredRow } from '../storage';
import { decodeItem, type ItemVersion } from './itemRow';
import { macValid } from './rowMac';

/** One version's rows checked (row MACs) and opened, or the damaged row's name and why. */
export function decodeGroup(macKey: Uint8Array, table: string, rows: StoredRow[], runKeys: Map<string, Buffer>): ItemVersion | { row: string; reason: string } {
  const head = rows[0]!;
  try {
    const bad = rows.find((r) => !macValid(macKey, table, r));
    if (bad) throw new BackupError('INTEGRITY', `Item row ${bad.partitionKey}/${bad.rowKey} was altered or is corrupted.`);
    return decodeItem(rows, runKeys);
  } catch (e) {
    if (!isBackupError(e, 'INTEGRITY')) throw e;
    return { row: `${head.partitionKey}/${head.rowKey}`, reason: e.message };
  }
}
