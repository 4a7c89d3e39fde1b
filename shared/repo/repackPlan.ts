import { SEAL_OVERHEAD } from '../crypto';
import type { BlobInfo } from '../storage';
import { ENTRY_BYTES, TRAILER_BYTES } from './packFormat';
import { packRepack, type RepackRefusal, type TierPrices } from './packEconomics';

/** A live chunk to copy: where it is now. */
export interface LiveChunk {
  id: string;
  pack: string;
  off: number;
  len: number;
  raw: number;
}

/** A partly used pack as prune's mark sees it. */
export interface PartlyUsedPack {
  packId: string;
  size: number;
  live: LiveChunk[];
  /** Bytes no live chunk row points to: dead chunks, and chunks whose rows now point elsewhere (an interrupted repack). */
  deadBytes: number;
}

export interface RepackPlan {
  /** The packs to repack, in copy order. */
  packs: PartlyUsedPack[];
  /** The new packs: their chunks in order (the copy writes exactly these). */
  groups: LiveChunk[][];
  /** Predicted bytes of the new packs. */
  writtenBytes: number;
  /** Bytes of the packs repacked (deleted once their rows are gone, unless kept for a lock or a minimum). */
  oldBytes: number;
  /** Partly used packs not repacked, and why ('unused' = within the unused-space allowance). */
  refused: Record<RepackRefusal | 'unused', number>;
}

export interface RepackPlanOptions {
  now: number;
  prices: TierPrices;
  earlyDeletion: 'defer' | 'pay';
  /** Dead bytes tolerated in partly used packs, as a share of the live bytes of all packs (restic's --max-unused, default 5%). */
  maxUnused: number;
  packTargetBytes: number;
  /** Bytes of a sealed pack key (the tail of a new pack holds one). */
  sealedKeyBytes: number;
  /** Live bytes of every kept pack (the base of `maxUnused`). */
  liveBytesTotal: number;
}

/** Bytes of a pack's tail with `n` entries: sealed header, sealed key, trailer (packFormat.ts). */
export const tailBytes = (n: number, sealedKeyBytes: number) => 4 + n * ENTRY_BYTES + SEAL_OVERHEAD + sealedKeyBytes + TRAILER_BYTES;

/**
 * Chooses the partly used packs to repack (docs/retention.md, "Repacking"): those whose repack pays
 * (packRepack: never Archive, never a legal hold, saving over cost), most wasteful first, until the
 * dead bytes left in those packs are within `maxUnused` of the live bytes, as restic does.
 * Then groups their live chunks into new packs of the repository's target size.
 */
export function planRepack(partly: PartlyUsedPack[], blobInfo: Map<string, BlobInfo>, o: RepackPlanOptions): RepackPlan {
  const refused: RepackPlan['refused'] = { archive: 0, 'legal-hold': 0, fee: 0, unused: 0 };
  const eligible: PartlyUsedPack[] = [];
  for (const p of partly) {
    const info = blobInfo.get(p.packId);
    if (!info) continue; // no blob: verify reports it, prune copies nothing it cannot read
    const liveBytes = p.live.reduce((n, c) => n + c.len, 0);
    const why = packRepack(info, liveBytes, p.deadBytes, o.now, o.prices, o.earlyDeletion).refusedFor;
    if (why) refused[why]++;
    else eligible.push(p);
  }
  eligible.sort((a, b) => b.deadBytes / b.size - a.deadBytes / a.size || (a.packId < b.packId ? -1 : 1));
  // Only what repacking can reclaim counts: an Archive pack's dead bytes must not force rewriting every online pack.
  let unused = eligible.reduce((n, p) => n + p.deadBytes, 0);
  const allowed = o.maxUnused * o.liveBytesTotal;
  const packs: PartlyUsedPack[] = [];
  for (const p of eligible) {
    if (unused <= allowed) {
      refused.unused++;
      continue;
    }
    packs.push(p);
    unused -= p.deadBytes;
  }
  packs.sort((a, b) => (a.packId < b.packId ? -1 : 1));
  const groups: LiveChunk[][] = [];
  let cur: LiveChunk[] = [];
  let curBytes = 0;
  for (const p of packs)
    for (const c of [...p.live].sort((a, b) => a.off - b.off)) {
      if (cur.length && curBytes + c.len + tailBytes(cur.length + 1, o.sealedKeyBytes) > o.packTargetBytes) {
        groups.push(cur);
        cur = [];
        curBytes = 0;
      }
      cur.push(c);
      curBytes += c.len;
    }
  if (cur.length) groups.push(cur);
  const writtenBytes = groups.reduce((n, g) => n + g.reduce((m, c) => m + c.len, 0) + tailBytes(g.length, o.sealedKeyBytes), 0);
  return { packs, groups, writtenBytes, oldBytes: packs.reduce((n, p) => n + p.size, 0), refused };
}
