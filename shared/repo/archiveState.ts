import { packBlobName } from './layout';
import type { Repository } from './repository';

export interface ArchiveState {
  packs: number;
  /** Packs not readable yet: in the Archive tier, or rehydrating. */
  archived: number;
}

const isArchived = (info: { tier?: string; archiveStatus?: string } | undefined) =>
  !!info && (info.tier === 'Archive' || String(info.archiveStatus ?? '').startsWith('rehydrate-pending'));

/** How many of these packs cannot be read yet. */
export async function archiveState(repo: Repository, packIds: readonly string[]): Promise<ArchiveState> {
  let archived = 0;
  for (const id of packIds) if (isArchived(await repo.blobs.stat(repo.layout.packContainer, packBlobName(id)))) archived++;
  return { packs: packIds.length, archived };
}

/**
 * Starts rehydration (Archive -> Cool) of those packs that are archived and not rehydrating yet,
 * with the given priority (High: < 1 h for small blobs; Standard: up to 15 h). Returns how many.
 */
export async function rehydratePacks(repo: Repository, packIds: readonly string[], priority: 'High' | 'Standard'): Promise<number> {
  let requested = 0;
  for (const id of packIds) {
    const info = await repo.blobs.stat(repo.layout.packContainer, packBlobName(id));
    if (info?.tier === 'Archive' && !info.archiveStatus) {
      await repo.blobs.setTier(repo.layout.packContainer, packBlobName(id), 'Cool', { rehydratePriority: priority });
      requested++;
    }
  }
  return requested;
}
