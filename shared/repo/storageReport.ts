import type { AccessTier, BlobInfo } from '../storage';
import { allSnapshots, partitionToken, type SnapshotRecord } from './catalog';
import { monthlyCost, NO_PRICES, type TierPrices } from './packEconomics';
import { pruneEstimate, type PruneResult } from './prune';
import type { Repository } from './repository';

export interface TierUsage {
  blobs: number;
  bytes: number;
  /** Estimated storage cost per month at the given prices. */
  monthlyCost: number;
}

/** Packs sharing one immutability expiry day: a generation (docs/retention.md). */
export interface PackGeneration {
  /** UTC day the lock of these packs ends; absent: packs without a policy. */
  lockedUntil?: string;
  packs: number;
  bytes: number;
}

export interface RepositoryStorage {
  /** Pack blobs by tier (the bulk of the bill). */
  packs: Record<AccessTier, TierUsage>;
  /** Catalog, pack-index, Bloom and lease blobs (all Hot). */
  meta: TierUsage;
  generations: PackGeneration[];
  /** Pack blobs under a legal hold. */
  legalHolds: number;
  /** What prune would do now (dry run, no leases taken): reclaimable and deferred garbage. */
  garbage: PruneResult;
  monthlyCost: number;
}

const TIERS: AccessTier[] = ['Hot', 'Cool', 'Cold', 'Archive'];
const usage = (): TierUsage => ({ blobs: 0, bytes: 0, monthlyCost: 0 });
const round = (x: number) => Math.round(x * 1e9) / 1e9;

/**
 * The repository's storage as billed: pack blobs per tier and per immutability generation, the
 * meta container, the garbage prune would reclaim or is waiting to, and the estimated monthly cost.
 * Reads listings and tables only (no password, no lease): figures are as of the listing.
 */
export async function repositoryStorage(repo: Repository, o: { prices?: TierPrices; now?: () => number } = {}): Promise<RepositoryStorage> {
  const prices = o.prices ?? NO_PRICES;
  const packs = Object.fromEntries(TIERS.map((t) => [t, usage()])) as Record<AccessTier, TierUsage>;
  const generations = new Map<string, PackGeneration>();
  let legalHolds = 0;
  for await (const b of repo.blobs.list(repo.layout.packContainer)) {
    const tier = b.tier ?? 'Hot';
    packs[tier].blobs++;
    packs[tier].bytes += b.size;
    if (b.legalHold) legalHolds++;
    const day = lockDay(b);
    const g = generations.get(day ?? '') ?? { ...(day ? { lockedUntil: day } : {}), packs: 0, bytes: 0 };
    g.packs++;
    g.bytes += b.size;
    generations.set(day ?? '', g);
  }
  const meta = usage();
  for await (const b of repo.blobs.list(repo.layout.metaContainer)) {
    meta.blobs++;
    meta.bytes += b.size;
  }
  meta.monthlyCost = round(monthlyCost(meta.bytes, 'Hot', prices));
  for (const t of TIERS) packs[t].monthlyCost = round(monthlyCost(packs[t].bytes, t, prices));
  const garbage = await pruneEstimate(repo, { prices, now: o.now });
  return {
    packs,
    meta,
    generations: [...generations.values()].sort((a, b) => (a.lockedUntil ?? '').localeCompare(b.lockedUntil ?? '')),
    legalHolds,
    garbage,
    monthlyCost: round(meta.monthlyCost + TIERS.reduce((n, t) => n + packs[t].monthlyCost, 0)),
  };
}

function lockDay(b: BlobInfo): string | undefined {
  return b.immutableUntil ? b.immutableUntil.toISOString().slice(0, 10) : undefined;
}

export interface PartitionTotals {
  snapshots: number;
  /** Items and logical bytes of the newest snapshot (what a restore of it gives back). */
  items: number;
  bytes: number;
  /** Bytes its snapshots first stored (after dedup and compression): its share of the packs. */
  storedBytes: number;
  newest?: string;
}

/** Snapshot totals of the named partitions, from one scan of the snapshot table (no password). */
export async function partitionTotals(repo: Repository, partitionNames: readonly string[]): Promise<Map<string, PartitionTotals>> {
  const byToken = new Map(partitionNames.map((n) => [partitionToken(repo.keys.tokenKey, n), n]));
  const out = new Map<string, PartitionTotals>();
  const newest = new Map<string, SnapshotRecord>();
  for await (const s of allSnapshots(repo)) {
    const name = byToken.get(s.partition);
    if (name === undefined) continue;
    const t = out.get(name) ?? { snapshots: 0, items: 0, bytes: 0, storedBytes: 0 };
    t.snapshots++;
    t.storedBytes += s.stats.storedBytes ?? 0;
    const n = newest.get(name);
    if (!n || s.seq > n.seq) {
      newest.set(name, s);
      t.items = s.stats.items;
      t.bytes = s.stats.bytes;
      t.newest = s.time;
    }
    out.set(name, t);
  }
  return out;
}
