import type { PrivateKey } from '../crypto';
import { BackupError } from '../errors';
import type { GraphConnection } from '../graph';
import type { Repository } from '../repo';
import { chunkHexes, selectTenantSnapshots, type TenantSelection } from './m365/tenantPlan';
import type { RestoreJobRef } from './m365/restoreJob';
import type { M365RestoreRequest } from './m365/write/engine';
import { planM365RestoreJob } from './m365/write/m365Job';
import type { M365WritePlan, PlannedWriteItem } from './m365/write/writePlan';
import { keepSelected, listedIdsOf } from './m365/itemSelection';

/**
 * A restore of selected items (the console's checkboxes): the ids a browse listing shows, items or
 * folders. A folder brings everything under it; every kept item brings the folders above it, so
 * the tree is rebuilt where it was (as a folder-prefix restore does). Applied to the plan a
 * restore into Microsoft 365 makes for the selected user, before it is stored.
 */
export const MAX_SELECTED_ITEMS = 1000;

/** The "items" field: 1..1000 distinct ids (non-empty strings of at most 400 characters); USAGE otherwise. */
export function parseItemIds(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_SELECTED_ITEMS || v.some((x) => typeof x !== 'string' || x.trim() === '' || x.length > 400))
    throw new BackupError('USAGE', `"items" must be a list of 1 to ${MAX_SELECTED_ITEMS} item or folder ids, as the browse listing gives them.`);
  return [...new Set(v as string[])];
}

/** Keeps the selected items of each part (folders with what is under them, and their ancestors); returns the ids found nowhere. */
export function keepSelectedItems(plan: M365WritePlan, ids: readonly string[]): { plan: M365WritePlan; missing: string[] } {
  const wanted = new Set(ids);
  const found = new Set<string>();
  // The plan's order (folders by depth, then the rest) is kept.
  const parts = plan.parts.map((part) => ({ ...part, items: keepSelected(part.service, part.items, (i: PlannedWriteItem) => i.meta, wanted, found) }));
  const chunks = new Set(parts.flatMap((p) => p.items.flatMap((i) => chunkHexes(i.chunks))));
  const locations = plan.locations.filter(([hex]) => chunks.has(hex));
  return {
    plan: { ...plan, parts: parts.filter((p) => p.items.length > 0), locations, packs: [...new Set(locations.map((l) => l[1]))].sort() },
    missing: ids.filter((id) => !found.has(id)),
  };
}

/**
 * Before anything starts (HTTP 404 rather than a restore that writes nothing): every selected id is
 * an item or folder of the selected user's snapshots at the point in time.
 */
export async function checkSelectedItems(repo: Repository, key: PrivateKey, selection: TenantSelection, ids: readonly string[]): Promise<void> {
  if (selection.user === undefined) throw new BackupError('USAGE', '"items" are items of one user: name the user as "user".');
  const missing = new Set(ids);
  for (const { catalog, snapshot } of await selectTenantSnapshots(repo, selection)) {
    const runKeys = await catalog.openRunKeys(key);
    for await (const v of catalog.versionsAt(snapshot.seq, runKeys)) for (const id of listedIdsOf(v.meta as Record<string, unknown>)) missing.delete(id);
    if (missing.size === 0) return;
  }
  if (missing.size > 0) {
    const first = [...missing].slice(0, 3).map((id) => `"${id.slice(0, 60)}"`).join(', ');
    throw new BackupError('NOT_FOUND', `${missing.size} selected item(s) are not in the backup of ${selection.user} (services ${selection.services.join(', ')})${selection.pointInTime ? ` at ${selection.pointInTime.toISOString()}` : ''}: ${first}${missing.size > 3 ? ', …' : ''}.`);
  }
}

/**
 * planM365RestoreJob for a selection: the user's plan cut to the selected items, then stored sealed
 * (and its parts named for the report). An id gone since the starter checked it is left out.
 */
export async function planSelectedM365RestoreJob(repo: Repository, conn: GraphConnection, job: RestoreJobRef, r: M365RestoreRequest, ids: readonly string[]): Promise<{ packs: number; parts: number; items: number }> {
  return planM365RestoreJob(repo, conn, job, r, (plan) => keepSelectedItems(plan, ids).plan);
}
