import { createHash } from 'node:crypto';
import { open, seal, type PrivateKey } from '../crypto';
import { BackupError } from '../errors';
import type { StoredRow } from '../storage';
import { ChunkIndex } from './chunkIndex';
import { packBlobName } from './layout';
import { PackWriter } from './packWriter';
import type { LiveChunk, RepackPlan } from './repackPlan';
import type { Repository } from './repository';
import { macValid } from './rowMac';

/** Old packs downloaded ahead of the copy (each at most the pack target, 16 MiB by default). */
const PREFETCH = 3;
/** Bytes of a staged block of a new pack. */
const BLOCK_BYTES = 8 * 1024 * 1024;

export interface RepackResult {
  /** New packs written and indexed. */
  packs: number;
  chunks: number;
  writtenBytes: number;
}

/**
 * Copies the live chunks of the planned packs into new packs (docs/repository-format.md, "Prune").
 * A sealed chunk cannot be copied without the private key: a pack has one pack key (sealed to the
 * repository's public key with the pack ID bound in) and a header sealed with it, so a new pack
 * needs its own key and each chunk must be opened with the old pack's key (AES-GCM checks it, with
 * the chunk ID as AAD) and sealed again with the new one; the plaintext (compression flag and
 * payload) is copied unchanged, so no chunk is recompressed and every length stays the same.
 *
 * Each new pack is made the way a backup makes one: blocks staged, committed in Cool (nothing is
 * visible before the commit), then ChunkIndex.recordPack writes its pack-index blob, its pack row,
 * then its chunk rows, which re-points the copied chunks to it (an upsert of the chunk's one row),
 * and locks it under a lock policy. Only afterwards does prune treat the old packs as dead. A crash
 * leaves either an unreferenced new pack blob (deleted by a later prune after the margin) or some
 * chunks re-pointed: the old pack keeps the rest and is simply partly used again.
 */
export async function repackPacks(repo: Repository, privateKey: PrivateKey, plan: RepackPlan, packRows: Map<string, StoredRow>, onPackWritten?: () => Promise<void> | void): Promise<RepackResult> {
  const { blobs, layout, keys } = repo;
  const index = await ChunkIndex.open(repo);
  const order = [...new Set(plan.groups.flatMap((g) => g.map((c) => c.pack)))];
  const loads = new Map<string, Promise<{ key: Buffer; data: Buffer }>>();
  let next = 0;
  const load = async (id: string) => {
    const row = packRows.get(id);
    if (!row || !macValid(keys.macKey, layout.packTable, row)) throw new BackupError('INTEGRITY', `Pack index row ${id} is missing, altered or corrupted; prune repacks nothing it cannot trust (run verify).`);
    const key = privateKey.open(row.sealedKey as Uint8Array, `pack-key:${id}`, `the key of pack ${id}`);
    const data = await blobs.getBlob(layout.packContainer, packBlobName(id));
    if (data.length !== Number(row.size)) throw new BackupError('INTEGRITY', `Pack ${id} is ${data.length} bytes, not the ${row.size} its index says (run verify).`);
    return { key, data };
  };
  const prefetch = () => {
    while (next < order.length && loads.size < PREFETCH) {
      const id = order[next++]!;
      const p = load(id);
      p.catch(() => undefined);
      loads.set(id, p);
    }
  };
  let current: string | undefined;
  const source = (id: string) => {
    // A pack's chunks are consecutive in the plan: once the copy moves on, the old pack is let go.
    if (current !== undefined && current !== id) loads.delete(current);
    current = id;
    prefetch();
    const p = loads.get(id);
    if (!p) throw new Error(`repack: pack ${id} is not loaded`); // the plan's order guarantees it is
    return p;
  };

  let chunks = 0;
  let writtenBytes = 0;
  for (let g = 0; g < plan.groups.length; g++) {
    const writer = new PackWriter(blobs, layout.packContainer, keys.publicKey);
    const hash = createHash('sha256');
    let block: Buffer[] = [];
    let blockBytes = 0;
    const flush = () => {
      if (!blockBytes) return;
      writer.stageBlock(Buffer.concat(block), () => undefined);
      block = [];
      blockBytes = 0;
    };
    for (const c of plan.groups[g]!) {
      const { key, data } = await source(c.pack);
      const sealed = copyChunk(key, writer.packKey, data, c);
      writer.addEntry(Buffer.from(c.id, 'hex'), sealed.length, c.raw);
      hash.update(sealed);
      block.push(sealed);
      blockBytes += sealed.length;
      if (blockBytes >= BLOCK_BYTES) flush();
    }
    const tail = writer.tail();
    hash.update(tail);
    block.push(tail);
    blockBytes += tail.length;
    flush();
    const d = await writer.finish(hash.digest());
    await index.recordPack(d);
    chunks += d.entries.length;
    writtenBytes += d.size;
    await onPackWritten?.();
  }
  return { packs: plan.groups.length, chunks, writtenBytes };
}

/** One live chunk, opened with its old pack's key and sealed with the new pack's (same plaintext, same length). */
function copyChunk(oldKey: Buffer, newKey: Buffer, pack: Buffer, c: LiveChunk): Buffer {
  if (c.off + c.len > pack.length) throw new BackupError('INTEGRITY', `Chunk ${c.id} lies outside pack ${c.pack} (run verify).`);
  const id = Buffer.from(c.id, 'hex');
  const plain = open(oldKey, pack.subarray(c.off, c.off + c.len), id, `chunk ${c.id} in pack ${c.pack}`);
  return seal(newKey, plain, id);
}
