import type { Repository } from './repository';

/** What the repository's pack blobs take in storage (the figure dedup and compression are measured by). */
export async function packStorageUsage(repo: Repository): Promise<{ packs: number; bytes: number }> {
  let packs = 0;
  let bytes = 0;
  for await (const b of repo.blobs.list(repo.layout.packContainer)) {
    packs++;
    bytes += b.size;
  }
  return { packs, bytes };
}
