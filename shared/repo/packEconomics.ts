import { MIN_DAYS, type AccessTier, type BlobInfo } from '../storage';

const DAY_MS = 86_400_000;
const GIB = 1024 ** 3;

/** Storage price per GiB-month of each tier, in the account's currency (the STORAGE_PRICES setting, shared/config). */
export type TierPrices = Readonly<Record<AccessTier, number>>;

/** No prices given: fees and costs come out as 0 (decisions do not depend on prices). */
export const NO_PRICES: TierPrices = { Hot: 0, Cool: 0, Cold: 0, Archive: 0 };

/** Why a dead pack is not deleted yet. */
export type DeletionWait = 'legal-hold' | 'immutability' | 'tier-minimum';

export interface PackDeletion {
  /** Epoch ms from which deleting the pack costs nothing extra and is allowed; Infinity under a legal hold. */
  deletableAt: number;
  /** Epoch ms from which storage allows the delete (the lock's end; now when unlocked; Infinity under a legal hold). */
  unlockedAt: number;
  /** Undefined when it can be deleted now. */
  waitingFor?: DeletionWait;
  /**
   * The early-deletion fee deleting it now would cost (the prorated rest of its tier's minimum that
   * lies after any lock), which waiting avoids. Zero when nothing is owed.
   */
  feeNow: number;
}

/** Whether storage refuses to delete or overwrite the blob now: a legal hold, or an unexpired immutability policy. */
export const isLocked = (info: BlobInfo, now: number) => !!info.legalHold || (info.immutableUntil !== undefined && info.immutableUntil.getTime() > now);

/** The pack's tier and since when (the start of its minimum-days clock). */
function tierClock(info: BlobInfo): { tier: AccessTier; since?: number } {
  const tier = info.tier ?? 'Hot';
  const since = (info.tierSince ?? info.lastModified)?.getTime();
  return { tier, since };
}

/**
 * When a dead pack may be deleted (docs/retention.md, "Archive-aware prune"): not while a legal hold
 * or an immutability policy protects it (Azure refuses), and not before its tier's minimum is served
 * (Cool 30, Cold 90, Archive 180 days: deleting earlier is billed for the days left). Waiting out the
 * minimum costs the same storage as the fee would, and the pack's chunks stay usable by backups
 * meanwhile, so a deferred pack is kept whole; `feeNow` is what deleting it now would have been billed.
 */
export function packDeletion(info: BlobInfo, now: number, prices: TierPrices = NO_PRICES): PackDeletion {
  if (info.legalHold) return { deletableAt: Infinity, unlockedAt: Infinity, waitingFor: 'legal-hold', feeNow: 0 };
  const lockEnd = info.immutableUntil && info.immutableUntil.getTime() > now ? info.immutableUntil.getTime() : now;
  const { tier, since } = tierClock(info);
  const minimumEnd = since === undefined ? now : since + MIN_DAYS[tier] * DAY_MS;
  const deletableAt = Math.max(lockEnd, minimumEnd, now);
  // The fee owed past the lock: days of the minimum still left once the lock has ended.
  const owedDays = Math.max(0, (minimumEnd - lockEnd) / DAY_MS);
  const feeNow = (owedDays / 30) * (info.size / GIB) * prices[tier];
  if (deletableAt <= now) return { deletableAt: now, unlockedAt: now, feeNow: 0 };
  return { deletableAt, unlockedAt: lockEnd, waitingFor: lockEnd > now ? 'immutability' : 'tier-minimum', feeNow };
}

/** Estimated monthly storage cost of `bytes` in `tier`. */
export function monthlyCost(bytes: number, tier: AccessTier, prices: TierPrices = NO_PRICES): number {
  return (bytes / GIB) * prices[tier];
}

/** Days of storing a repacked pack's dead bytes that a repack is credited with saving (one Cool minimum). */
export const REPACK_HORIZON_DAYS = 30;

/** Why a partly used pack is not repacked. */
export type RepackRefusal = 'archive' | 'legal-hold' | 'fee';

export interface PackRepack {
  /** Undefined when repacking pays now. */
  refusedFor?: RepackRefusal;
  /** What storing the dead bytes for REPACK_HORIZON_DAYS costs (what repacking saves). */
  saving: number;
  /**
   * What repacking costs: the early-deletion fee the old pack still owes (0 with `earlyDeletion`
   * 'pay', which accepts it, as for dead packs) plus the live bytes stored twice while a lock keeps
   * the old pack.
   */
  cost: number;
  /** The early-deletion fee deleting the old pack now would be billed (reported when paid). */
  feeNow: number;
}

/**
 * Whether a partly used pack should be repacked now (docs/retention.md, "Repacking"): never an
 * Archive pack (its data would have to be rehydrated; rewriting it is an early deletion), never
 * one under a legal hold; otherwise when the saving beats the cost. Without prices (NO_PRICES) the
 * figures are byte-days at a price of 1 in every tier, so the decision never depends on prices
 * being set; the new pack is written to Cool.
 */
export function packRepack(info: BlobInfo, liveBytes: number, deadBytes: number, now: number, prices: TierPrices = NO_PRICES, earlyDeletion: 'defer' | 'pay' = 'defer'): PackRepack {
  const unpriced = Object.values(prices).every((p) => p === 0);
  const price: TierPrices = unpriced ? { Hot: 1, Cool: 1, Cold: 1, Archive: 1 } : prices;
  const { tier } = tierClock(info);
  const d = packDeletion(info, now, price);
  const feeNow = unpriced ? 0 : d.feeNow;
  if (tier === 'Archive' || info.archiveStatus) return { refusedFor: 'archive', saving: 0, cost: 0, feeNow };
  if (info.legalHold) return { refusedFor: 'legal-hold', saving: 0, cost: 0, feeNow };
  const lockDays = Math.max(0, (d.unlockedAt - now) / DAY_MS);
  const saving = (REPACK_HORIZON_DAYS / 30) * (deadBytes / GIB) * price[tier];
  const cost = (earlyDeletion === 'pay' ? 0 : d.feeNow) + (lockDays / 30) * (liveBytes / GIB) * price.Cool;
  return { ...(saving > cost ? {} : { refusedFor: 'fee' as const }), saving: unpriced ? 0 : saving, cost: unpriced ? 0 : cost, feeNow };
}
