import { timingSafeEqual } from 'node:crypto';
import { hmac } from '../crypto';
import { BackupError } from '../errors';
import { Catalog, type SnapshotRecord } from './catalog';
import { padSeq } from './layout';
import { Lease } from './lock';
import type { Repository } from './repository';

/**
 * Forgets snapshots of one partition (docs/repository-format.md section 11 rule 5): deletes their
 * snapshot rows, so they stop being committed. Item versions, chunks and packs are left to prune.
 * Holds the partition's writer lock, so a backup of the partition is not committing meanwhile.
 * The newest snapshot is never forgotten (the next incremental compares against its versions and its
 * sequence number must never be reused). Idempotent: a row already gone counts as forgotten.
 */
export async function forgetSnapshots(repo: Repository, partitionName: string, seqs: readonly number[]): Promise<{ forgotten: number[] }> {
  const catalog = new Catalog(repo, partitionName);
  const lock = await Lease.acquire(repo, catalog.partition, { what: 'a backup of this partition' });
  try {
    const snapshots = await catalog.snapshots();
    const newest = snapshots.at(-1)?.seq;
    if (newest !== undefined && seqs.includes(newest))
      throw new BackupError('USAGE', `Snapshot ${newest} is the newest of its partition and cannot be forgotten.`);
    const known = new Set(snapshots.map((s) => s.seq));
    const forgotten: number[] = [];
    for (const seq of seqs) {
      if (!known.has(seq)) continue;
      // The marker first: its catalog blob stays (it may be locked), and rebuild-index must not bring
      // the snapshot back from it.
      await writeForgottenMarker(repo, catalog.partition, seq);
      await repo.tables.delete(repo.layout.snapshotTable, catalog.partition, padSeq(seq));
      forgotten.push(seq);
    }
    return { forgotten };
  } finally {
    await lock.release().catch(() => undefined);
  }
}

export const FORGOTTEN_PREFIX = 'forgotten/';
/** The 32-byte body of a forgotten marker: HMAC-SHA256(macKey, "forgotten\0" ‖ partition token ‖ "\0" ‖ decimal seq). */
export const forgottenMarker = (macKey: Uint8Array, partition: string, seq: number) => hmac(macKey, 'forgotten\0', partition, '\0', String(seq));
export const forgottenMarkerName = (partition: string, seq: number) => `${FORGOTTEN_PREFIX}${partition}/${padSeq(seq)}`;
const forgottenMac = (repo: Repository, partition: string, seq: number) => forgottenMarker(repo.keys.macKey, partition, seq);

/** `forgotten/<partition token>/<seq>` in the meta container: 32 bytes, the MAC of (partition, seq). */
async function writeForgottenMarker(repo: Repository, partition: string, seq: number): Promise<void> {
  await repo.blobs.putBlob(repo.layout.metaContainer, forgottenMarkerName(partition, seq), forgottenMac(repo, partition, seq), { tier: 'Hot' });
}

/** Authentic forgotten markers, as "<partition token>/<seq>" (a marker whose MAC fails is ignored). */
export async function forgottenSnapshots(repo: Repository): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const b of repo.blobs.list(repo.layout.metaContainer, { prefix: FORGOTTEN_PREFIX })) {
    const [, partition, seqText] = b.name.split('/');
    const seq = Number(seqText);
    if (!partition || !Number.isSafeInteger(seq)) continue;
    const body = await repo.blobs.getBlob(repo.layout.metaContainer, b.name).catch(() => undefined);
    const want = forgottenMac(repo, partition, seq);
    if (body && body.length === want.length && timingSafeEqual(body, want)) out.set(`${partition}/${seq}`, b.name);
  }
  return out;
}

/** The committed snapshots of a partition (what forget decides on), oldest first. */
export function partitionSnapshots(repo: Repository, partitionName: string): Promise<SnapshotRecord[]> {
  return new Catalog(repo, partitionName).snapshots();
}
