import { forEachConcurrent } from '../../../concurrency';
import type { RestoreItem } from './serviceWriter';

/** Writes in flight at once per target user (Outlook allows 4 concurrent requests per mailbox). */
export const WRITE_CONCURRENCY = 4;

/**
 * The items of a unit: folders one after another, in plan order (a child needs its parent's id),
 * then everything else `limit` at once. A rejection (a stop: write access refused) ends the unit.
 */
export async function foldersThenItems(items: readonly RestoreItem[], fn: (item: RestoreItem) => Promise<void>, limit = WRITE_CONCURRENCY): Promise<void> {
  for (const f of items) if (f.meta.type === 'folder') await fn(f);
  await forEachConcurrent(
    items.filter((i) => i.meta.type !== 'folder'),
    limit,
    fn,
  );
}
