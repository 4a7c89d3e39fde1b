import { createHash } from 'node:crypto';
import { open, sealToPieces, type PrivateKey } from '../crypto';
import { forEachConcurrent } from '../concurrency';
import { BackupError } from '../errors';
import type { StoredRow } from '../storage';
import { ChunkIndex } from './chunkIndex';
import { packBlobName } from './layout';
import { PackWriter } from './packWriter';
import type { LiveChunk, RepackPlan } from './repackPlan';
import type { Repository } from './repository';
import { macValid } from './rowMac';

/** New packs built at once (each holds the old packs it copies from in memory: a few times the pack target). */
const PACKS_IN_FLIGHT = 3;
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
  // Each old pack is downloaded once and held while a group that copies from it is unfinished.
  const users = new Map<string, number>();
  for (const g of plan.groups) for (const id of new Set(g.map((c) => c.pack))) users.set(id, (users.get(id) ?? 0) + 1);
  const spans = liveSpans(plan.groups);
  const loads = new Map<string, Promise<{ key: Buffer; ranges: Range[] }>>();
  const load = async (id: string) => {
    const row = packRows.get(id);
    if (!row || !macValid(keys.macKey, layout.packTable, row)) throw new BackupError('INTEGRITY', `Pack index row ${id} is missing, altered or corrupted; prune repacks nothing it cannot trust (run verify).`);
    const key = privateKey.open(row.sealedKey as Uint8Array, `pack-key:${id}`, `the key of pack ${id}`);
    const ranges = await Promise.all(
      spans.get(id)!.map(async ([start, end]) => {
        const data = await blobs.getBlob(layout.packContainer, packBlobName(id), { offset: start, count: end - start });
        if (data.length !== end - start) throw new BackupError('INTEGRITY', `Pack ${id} is shorter than its index says (run verify).`);
        return { start, data };
      }),
    );
    return { key, ranges };
  };
  const source = (id: string) => {
    let p = loads.get(id);
    if (!p) {
      loads.set(id, (p = load(id)));
      p.catch(() => undefined);
    }
    return p;
  };
  const release = (group: LiveChunk[]) => {
    for (const id of new Set(group.map((c) => c.pack))) {
      const left = users.get(id)! - 1;
      users.set(id, left);
      if (left === 0) loads.delete(id);
    }
  };

  let chunks = 0;
  let writtenBytes = 0;
  await forEachConcurrent(plan.groups, PACKS_IN_FLIGHT, async (group) => {
    // The group's old packs are fetched together (at most a few: a group is one new pack's worth).
    for (const id of new Set(group.map((c) => c.pack))) void source(id);
    const writer = new PackWriter(blobs, layout.packContainer, keys.publicKey);
    const hash = createHash('sha256');
    let block: Buffer[] = [];
    let blockBytes = 0;
    const flush = () => {
      if (!blockBytes) return;
      // The sealed pieces go out as they are: no copy of 8 MiB blocks joined from them.
      writer.stageBlock(block, () => undefined);
      block = [];
      blockBytes = 0;
    };
    for (const c of group) {
      const { key, ranges } = await source(c.pack);
      const sealed = copyChunk(key, writer.packKey, ranges, c);
      const length = sealed.reduce((n, b) => n + b.length, 0);
      writer.addEntry(Buffer.from(c.id, 'hex'), length, c.raw);
      for (const piece of sealed) hash.update(piece);
      block.push(...sealed);
      blockBytes += length;
      if (blockBytes >= BLOCK_BYTES) flush();
    }
    release(group);
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
  });
  return { packs: plan.groups.length, chunks, writtenBytes };
}

/** A downloaded byte range of an old pack. */
interface Range {
  start: number;
  data: Buffer;
}

/** Gaps of dead bytes shorter than this between live chunks are read through rather than split into requests. */
const MERGE_GAP = 1024 * 1024;

/** Per old pack, the byte ranges holding its live chunks (neighbours merged across small gaps): only those are downloaded. */
function liveSpans(groups: LiveChunk[][]): Map<string, [number, number][]> {
  const byPack = new Map<string, LiveChunk[]>();
  for (const g of groups) for (const c of g) byPack.set(c.pack, [...(byPack.get(c.pack) ?? []), c]);
  const out = new Map<string, [number, number][]>();
  for (const [id, list] of byPack) {
    const spans: [number, number][] = [];
    for (const c of list.sort((a, b) => a.off - b.off)) {
      const last = spans.at(-1);
      if (last && c.off - last[1] < MERGE_GAP) last[1] = Math.max(last[1], c.off + c.len);
      else spans.push([c.off, c.off + c.len]);
    }
    out.set(id, spans);
  }
  return out;
}

/** One live chunk, opened with its old pack's key and sealed with the new pack's (same plaintext, same length), as the cipher's pieces. */
function copyChunk(oldKey: Buffer, newKey: Buffer, ranges: Range[], c: LiveChunk): Buffer[] {
  const r = ranges.find((x) => x.start <= c.off && c.off + c.len <= x.start + x.data.length);
  if (!r) throw new BackupError('INTEGRITY', `Chunk ${c.id} lies outside pack ${c.pack} (run verify).`);
  const id = Buffer.from(c.id, 'hex');
  const plain = open(oldKey, r.data.subarray(c.off - r.start, c.off - r.start + c.len), id, `chunk ${c.id} in pack ${c.pack}`);
  return sealToPieces(newKey, [plain], id);
}
