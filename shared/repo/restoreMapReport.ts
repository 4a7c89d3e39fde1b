import { open, seal } from '../crypto';
import type { Repository } from './repository';
import { RestoreMapStore } from './restoreMap';

const aad = (restoreId: string, unit: string) => Buffer.from(`restore-report:${restoreId}:${unit}`);
const partition = (restoreId: string) => `report-${restoreId}`;
const PARTS_ROW = '_parts';
/** Parts named in the report (user, service); a larger restore reports the others by number. */
const MAX_NAMED_PARTS = 500;

export interface UnitCounts {
  restored: number;
  skipped: number;
  renamed: number;
  failed: number;
}

export interface RestoreReport {
  parts: ({ part: number; user?: string; target?: string; service?: string; units: number } & UnitCounts)[];
  failures: { item: string; reason: string }[];
}

/**
 * The report of a restore into Microsoft 365 in the restore-map table: one row per work unit
 * (counts in the clear; its first failures sealed with the index key, since item names are
 * personal data and stay out of Durable history) and one row naming the parts (users, sealed), so
 * GET /api/restores/{id} can show per-user, per-service progress without the password. Rows stay
 * well under a table property's 64 KiB (reasons and names cut short, at most 100 per unit).
 */
export async function saveUnitFailures(repo: Repository, restoreId: string, unit: string, failures: { item: string; reason: string }[], counts: UnitCounts): Promise<void> {
  const table = await RestoreMapStore.tableOf(repo);
  const body = failures.slice(0, 100).map((f) => ({ item: f.item.slice(0, 200), reason: f.reason.slice(0, 240) }));
  await repo.tables.upsert(table, {
    partitionKey: partition(restoreId),
    rowKey: unit,
    restored: counts.restored,
    skipped: counts.skipped,
    renamed: counts.renamed,
    failed: counts.failed,
    failures: seal(repo.keys.indexKey, Buffer.from(JSON.stringify(body)), aad(restoreId, unit)),
  });
}

/** Names the parts of a restore (part number -> source user, target user, service). */
export async function saveRestoreParts(repo: Repository, restoreId: string, parts: { user: string; target: string; service: string }[]): Promise<void> {
  const table = await RestoreMapStore.tableOf(repo);
  const named = parts.slice(0, MAX_NAMED_PARTS).map((p) => [p.user.slice(0, 120), p.target.slice(0, 120), p.service]);
  await repo.tables.upsert(table, { partitionKey: partition(restoreId), rowKey: PARTS_ROW, parts: seal(repo.keys.indexKey, Buffer.from(JSON.stringify(named)), aad(restoreId, PARTS_ROW)) });
}

/** The report so far: per part counts (and names), and the first `limit` failures. */
export async function readRestoreReport(repo: Repository, restoreId: string, limit = 100): Promise<RestoreReport> {
  const table = await RestoreMapStore.tableOf(repo);
  const parts = new Map<number, RestoreReport['parts'][number]>();
  const failures: RestoreReport['failures'] = [];
  let names: [string, string, string][] = [];
  const openRow = (row: Record<string, unknown>, field: string) => JSON.parse(open(repo.keys.indexKey, row[field] as Uint8Array, aad(restoreId, String(row.rowKey)), `the report of restore ${restoreId}`).toString('utf8')) as unknown;
  for await (const row of repo.tables.query(table, { filter: `PartitionKey eq '${partition(restoreId).replace(/'/g, "''")}'` })) {
    if (row.rowKey === PARTS_ROW) {
      names = openRow(row, 'parts') as [string, string, string][];
      continue;
    }
    const n = Number(/^p(\d+)\./.exec(row.rowKey)?.[1] ?? -1);
    const p = parts.get(n) ?? { part: n, units: 0, restored: 0, skipped: 0, renamed: 0, failed: 0 };
    p.units++;
    for (const k of ['restored', 'skipped', 'renamed', 'failed'] as const) p[k] += Number(row[k] ?? 0);
    parts.set(n, p);
    if (failures.length < limit) failures.push(...(openRow(row, 'failures') as RestoreReport['failures']).slice(0, limit - failures.length));
  }
  const out = [...parts.values()].sort((a, b) => a.part - b.part);
  for (const p of out) {
    const name = names[p.part];
    if (name) Object.assign(p, { user: name[0], target: name[1], service: name[2] });
  }
  return { parts: out, failures };
}
