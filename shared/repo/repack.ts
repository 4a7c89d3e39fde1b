import { availableParallelism } from 'node:os';
import type { PrivateKey } from '../crypto';
import { forEachConcurrent } from '../concurrency';
import { BackupError } from '../errors';
import type { StoredRow } from '../storage';
import { ChunkIndex } from './chunkIndex';
import { packBlobName } from './layout';
import { PackWriter } from './packWriter';
import { ResealPool } from './resealPool';
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
  const pool = new ResealPool(Math.min(PACKS_IN_FLIGHT, availableParallelism()));
  try {
    await forEachConcurrent(plan.groups, PACKS_IN_FLIGHT, async (group) => {
      // The group's old packs are fetched together (at most a few: a group is one new pack's worth).
      for (const id of new Set(group.map((c) => c.pack))) void source(id);
      const writer = new PackWriter(blobs, layout.packContainer, keys.publicKey);
      // The live chunks, still sealed, back to back in a buffer of its own (it moves to a worker).
      const stream = Buffer.allocUnsafeSlow(group.reduce((n, c) => n + c.len, 0));
      const oldKeys: Buffer[] = [];
      const keyIndex = new Map<string, number>();
      const keyOf = new Int32Array(group.length);
      const ids = Buffer.allocUnsafeSlow(group.length * 32);
      let at = 0;
      for (const [i, c] of group.entries()) {
        const { key, ranges } = await source(c.pack);
        if (!keyIndex.has(c.pack)) keyIndex.set(c.pack, oldKeys.push(key) - 1);
        keyOf[i] = keyIndex.get(c.pack)!;
        ids.write(c.id, i * 32, 'hex');
        at += sealedBytesOf(ranges, c).copy(stream, at);
      }
      release(group); // copied out: an old pack's bytes are not held for the re-sealing
      const sealed = await pool.reseal({
        packId: writer.packId,
        packKey: writer.packKey,
        sealedKey: writer.sealedKey,
        oldKeys,
        keyOf,
        ids,
        lengths: Int32Array.from(group, (c) => c.len),
        rawLengths: Int32Array.from(group, (c) => c.raw),
        stream,
      });
      for (const c of group) writer.addEntry(Buffer.from(c.id, 'hex'), c.len, c.raw);
      writer.adoptTail(sealed.tail);
      // Blocks are views of the re-sealed stream (no copies); the tail ends the last one.
      for (let off = 0; off < sealed.stream.length; off += BLOCK_BYTES) {
        const block = sealed.stream.subarray(off, Math.min(off + BLOCK_BYTES, sealed.stream.length));
        writer.stageBlock(off + BLOCK_BYTES >= sealed.stream.length ? [block, sealed.tail] : block, () => undefined);
      }
      const d = await writer.finish(sealed.sha256);
      await index.recordPack(d);
      chunks += d.entries.length;
      writtenBytes += d.size;
      await onPackWritten?.();
    });
  } finally {
    await pool.close();
  }
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

/** A live chunk's sealed bytes in the downloaded ranges of its old pack. */
function sealedBytesOf(ranges: Range[], c: LiveChunk): Buffer {
  const r = ranges.find((x) => x.start <= c.off && c.off + c.len <= x.start + x.data.length);
  if (!r) throw new BackupError('INTEGRITY', `Chunk ${c.id} lies outside pack ${c.pack} (run verify).`);
  return r.data.subarray(c.off - r.start, c.off - r.start + c.len);
}
