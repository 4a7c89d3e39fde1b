import { forEachConcurrent } from '../concurrency';
import { BackupError, isBackupError } from '../errors';
import type { BlobInfo, RowOperation, StoredRow } from '../storage';
import { catalogBlobName, OPEN_END, packBlobName, packIndexBlobName } from './layout';
import { lockEndsBefore, lockWindow, setLock } from './packLocks';
import { keepConfigBackupLocked } from './configBackup';
import { forgottenSnapshots } from './forget';
import { Lease, PRUNE_LEASE, TENANT_RUN_LEASE } from './lock';
import { refuseWhileRead } from './readers';
import type { Repository } from './repository';
import { joinPayload, splitPayload } from './itemRow';
import { isLocked, NO_PRICES, packDeletion, type TierPrices } from './packEconomics';
import { GARBAGE_TAGS } from './pruneTags';
import type { PrivateKey } from '../crypto';
import { planRepack, tailBytes, type PartlyUsedPack } from './repackPlan';
import { repackPacks } from './repack';

/**
 * prune (docs/repository-format.md, "Prune"): deletes what no kept snapshot needs. Needs no password
 * (chunk IDs of item rows and the pack of each chunk are in the clear).
 *
 *  1. Leases: the repository's `prune` lease (a second prune is refused with LOCKED; so is a prune
 *     while a restore or verify holds a reader lease, readers.ts, and a reader while prune runs), the tenant-run
 *     lease (no tenant backup runs meanwhile) and the writer lock of every partition that has
 *     snapshots (no backup of it runs meanwhile). A backup that cannot take its lock fails cleanly and
 *     runs next time; prune never waits on a backup.
 *  2. Mark: an item version is live when a committed snapshot of its partition lies in [f, t), or when
 *     f is above the partition's newest committed snapshot (written by a run that has not committed:
 *     it may still commit). A chunk is live when a live version lists it; a pack when it holds one.
 *  3. Sweep, each step idempotent so a rerun after a crash finishes the job: dead item rows; then, per
 *     dead pack, its chunk rows, its pack row, its pack-index blob, its pack blob (a crash leaves at
 *     worst an unreferenced pack blob, which the next prune deletes); unreferenced pack blobs and
 *     orphaned pack-index blobs older than `marginMs` (younger ones may belong to a running backup).
 *  4. Re-check before any pack blob is deleted (the two-phase guard against a backup of a partition
 *     prune could not lock, e.g. a brand-new one): once the dead chunk rows are gone no new lookup can
 *     find them, then after `graceMs` the item table is scanned again; a dead chunk that a new row lists
 *     gets its chunk row back and its pack is kept.
 *  5. Archive-aware (packEconomics.ts): a dead pack under a legal hold or an immutability policy, or
 *     not yet past its tier's minimum days (Cool 30, Cold 90, Archive 180), is kept whole — rows and
 *     blob — and reported with the date it becomes deletable; the next prune after that date deletes
 *     it. `earlyDeletion: 'pay'` deletes unlocked packs now and pays the fee. A pack blob whose delete
 *     is refused as IMMUTABLE (a container policy, or an identity without delete rights) is tagged
 *     garbage instead (GARBAGE_TAGS): the storage account's lifecycle rule deletes it once it can.
 *  6. Repack (repackPlan.ts, repack.ts; needs the private key): a partly used pack whose repack pays
 *     (packEconomics.ts packRepack: never Archive, never a legal hold, the saving over the cost),
 *     most wasteful first until the dead bytes left are within `maxUnused`, has its live chunks
 *     copied into new packs and their chunk rows re-pointed (after the dead item rows are deleted,
 *     before any chunk row is); from then on it is a dead pack like any other (step 3-5: deleted,
 *     tagged garbage when locked, or kept until its minimum under 'defer'). Without the key the
 *     plan is only reported (`repackNeedsKey`).
 */
export interface PruneOptions {
  dryRun?: boolean;
  /** Pack blobs without a pack row younger than this are left alone (default 1 h). */
  marginMs?: number;
  /** Wait between deleting dead chunk rows and the re-check (default 0; see step 4). */
  graceMs?: number;
  now?: () => number;
  /** Dead packs still inside their tier minimum: 'defer' (default) keeps them until it ends; 'pay' deletes them now. */
  earlyDeletion?: 'defer' | 'pay';
  /** Prices for the fee figures (STORAGE_PRICES). */
  prices?: TierPrices;
  /**
   * Opens the private key to repack partly used packs; called only when there is something to
   * repack (never on a dry run, which reports the repack when this is given). Absent, or resolving
   * to undefined: partly used packs are kept whole (counted in repackNeedsKey).
   */
  privateKey?: () => Promise<PrivateKey | undefined>;
  /** Dead bytes tolerated in partly used packs, as a share of all live bytes (restic's --max-unused; default 0.05). */
  maxUnused?: number;
  /** Test seam: called after each new pack of a repack is indexed. */
  onRepackPack?: () => Promise<void> | void;
  /** Test seam: called at each phase boundary (a crash or a concurrent backup can be injected there). */
  onPhase?: (phase: PrunePhase) => Promise<void> | void;
}

export type PrunePhase = 'marked' | 'items-deleted' | 'repacked' | 'chunk-rows-deleted' | 'rechecked' | 'packs-deleted';

export interface PruneResult {
  dryRun: boolean;
  deadItemRows: number;
  deadPacks: number;
  deadChunks: number;
  /** Bytes of pack blobs deleted (or that would be), less the bytes of new packs a repack wrote. */
  reclaimBytes: number;
  unreferencedPacks: number;
  partlyUsedPacks: number;
  /** Bytes of partly used packs that no live chunk row points to (before repacking). */
  partlyUsedDeadBytes: number;
  /** Partly used packs repacked (or that would be): their live chunks copied, then deleted as dead packs. */
  repackedPacks: number;
  repackedChunks: number;
  /** Bytes of the new packs the repack wrote (or would write); reclaimBytes is net of them. */
  repackWrittenBytes: number;
  /** Partly used packs not repacked: Archive, legal hold, the fee (or a lock) outweighing the saving, or within maxUnused. */
  repackRefused: Record<'archive' | 'legal-hold' | 'fee' | 'unused', number>;
  /** Partly used packs that would have been repacked but no private key was given (their live bytes stay). */
  repackNeedsKey: number;
  keptPacks: number;
  /** Dead chunks a backup started using during prune: their packs were kept. */
  rescued: number;
  /** Dead packs kept whole for now (locked, held, or inside their tier minimum), with their bytes. */
  deferredPacks: number;
  deferredBytes: number;
  /** Of those, why: legal hold, immutability policy, tier minimum. */
  deferredFor: Record<'legal-hold' | 'immutability' | 'tier-minimum', number>;
  /** The earliest date a deferred pack becomes deletable (ISO), when one does. */
  nextDeletableAt?: string;
  /** Early-deletion fee that deleting the deferred packs now would have been billed (STORAGE_PRICES currency). */
  feeAvoided: number;
  /** Early-deletion fee paid by this prune ('pay'), estimated. */
  feePaid: number;
  /** Pack blobs whose delete storage refused (IMMUTABLE): tagged garbage for the lifecycle rule (not in reclaimBytes). */
  taggedGarbage: number;
  /** Garbage-tagged pack blobs of earlier prunes still locked: the lifecycle rule deletes them once it can. */
  garbageWaiting: number;
  /** Blobs whose lock prune extended to the current generation (packs, pack indexes, catalogs, the configuration backup). */
  locksExtended: number;
  /** Catalog blobs of forgotten snapshots deleted (their markers too). */
  forgottenCatalogs: number;
}

export { PRUNE_LEASE };
const DEFAULT_MARGIN_MS = 3_600_000;

interface Mark {
  deadItemRows: { pk: string; rk: string }[];
  liveChunks: Set<string>;
  /** Partition token -> newest committed seq (-1 when none): rows above it are new since the mark. */
  newest: Map<string, number>;
  /** Partition token -> its committed seqs at the mark (a seq is never reused, so later steps may rely on it). */
  seqs: Map<string, number[]>;
}

export async function prune(repo: Repository, options: PruneOptions = {}): Promise<PruneResult> {
  const leases: Lease[] = [];
  try {
    leases.push(await Lease.acquire(repo, PRUNE_LEASE, { what: 'a prune of this repository' }));
    // After our lease is written: a restore starting now sees it and refuses; one already reading is seen here.
    if (!options.dryRun) await refuseWhileRead(repo);
    leases.push(await Lease.acquire(repo, TENANT_RUN_LEASE, { what: 'a backup run or prune of this repository' }));
    for (const p of await partitionsWithSnapshots(repo)) leases.push(await Lease.acquire(repo, p, { what: 'a backup of this partition' }));
    return await pruneLocked(repo, options);
  } finally {
    for (const l of leases.reverse()) await l.release().catch(() => undefined);
  }
}

async function pruneLocked(repo: Repository, o: PruneOptions): Promise<PruneResult> {
  const { tables, blobs, layout } = repo;
  const now = o.now ?? Date.now;
  const mark = await markLive(repo);
  const chunks = new Map<string, StoredRow>();
  for await (const r of tables.query(layout.chunkTable)) chunks.set(r.rowKey, r);
  const packs = new Map<string, StoredRow>();
  for await (const r of tables.query(layout.packTable)) packs.set(r.rowKey, r);
  const perPack = new Map<string, { live: number; liveRows: StoredRow[]; dead: string[]; deadBytes: number }>();
  for (const id of packs.keys()) perPack.set(id, { live: 0, liveRows: [], dead: [], deadBytes: 0 });
  for (const [id, r] of chunks) {
    const p = perPack.get(String(r.pack));
    if (!p) continue; // verify reports it; prune never deletes what it cannot place
    if (mark.liveChunks.has(id)) {
      p.live++;
      p.liveRows.push(r);
    } else {
      p.dead.push(id);
      p.deadBytes += Number(r.len ?? 0);
    }
  }
  const allDead = [...perPack].filter(([, p]) => p.live === 0).map(([id]) => id);
  const blobInfo = new Map<string, BlobInfo>();
  for await (const b of blobs.list(layout.packContainer)) blobInfo.set(b.name.split('/').pop()!, b);
  const old = (b: { lastModified?: Date }) => b.lastModified !== undefined && now() - b.lastModified.getTime() >= (o.marginMs ?? DEFAULT_MARGIN_MS);
  const orphanBlobs = [...blobInfo].filter(([id, b]) => !packs.has(id) && old(b)).map(([id]) => id);
  // Unreferenced blobs already tagged garbage and still locked wait for the lifecycle rule: deleting them would only fail again.
  const unreferenced: string[] = [];
  let taggedWaiting = 0;
  for (const id of orphanBlobs) {
    if (isLocked(blobInfo.get(id)!, now()) && (await blobs.getTags(layout.packContainer, packBlobName(id))).m365backup === GARBAGE_TAGS.m365backup) taggedWaiting++;
    else unreferenced.push(id);
  }
  const prices = o.prices ?? NO_PRICES;
  const partly = partlyUsedPacks(perPack, packs);
  let plan = planRepack(partly, blobInfo, {
    now: now(),
    prices,
    earlyDeletion: o.earlyDeletion ?? 'defer',
    maxUnused: o.maxUnused ?? 0.05,
    packTargetBytes: repo.config.packTargetBytes,
    sealedKeyBytes: sealedKeyBytes(packs),
    liveBytesTotal: [...perPack.values()].reduce((n, p) => n + p.liveRows.reduce((m, r) => m + Number(r.len ?? 0), 0), 0),
  });
  // A dry run given a way to the key reports the repack without asking for it.
  let repackNeedsKey = 0;
  const privateKey = !o.dryRun && plan.packs.length ? await o.privateKey?.() : undefined;
  if (plan.packs.length && (o.dryRun ? !o.privateKey : !privateKey)) {
    repackNeedsKey = plan.packs.length;
    plan = { ...plan, packs: [], groups: [], writtenBytes: 0, oldBytes: 0 };
  }
  const repacked = new Set(plan.packs.map((p) => p.packId));
  const deferredFor = { 'legal-hold': 0, immutability: 0, 'tier-minimum': 0 };
  let deferredBytes = 0;
  let feeAvoided = 0;
  let feePaid = 0;
  let nextDeletable = Infinity;
  const deadPacks: string[] = [];
  for (const id of [...allDead, ...repacked]) {
    const info = blobInfo.get(id);
    const d = info ? packDeletion(info, now(), prices) : undefined;
    const wait = d?.waitingFor;
    if (d && wait && (wait !== 'tier-minimum' || o.earlyDeletion !== 'pay')) {
      deferredFor[wait]++;
      deferredBytes += info!.size;
      feeAvoided += d.feeNow;
      nextDeletable = Math.min(nextDeletable, o.earlyDeletion === 'pay' ? d.unlockedAt : d.deletableAt);
      continue;
    }
    if (d) feePaid += d.feeNow;
    deadPacks.push(id);
  }
  const deferredPacks = allDead.length + repacked.size - deadPacks.length;
  const result: PruneResult = {
    dryRun: !!o.dryRun,
    deadItemRows: mark.deadItemRows.length,
    deadPacks: deadPacks.length,
    deadChunks: deadPacks.reduce((n, id) => n + perPack.get(id)!.dead.length, 0),
    reclaimBytes: [...deadPacks, ...unreferenced].reduce((n, id) => n + (blobInfo.get(id)?.size ?? Number(packs.get(id)?.size ?? 0)), 0) - plan.writtenBytes,
    unreferencedPacks: unreferenced.length,
    partlyUsedPacks: partly.length,
    partlyUsedDeadBytes: partly.reduce((n, p) => n + p.deadBytes, 0),
    repackedPacks: plan.packs.length,
    repackedChunks: plan.groups.reduce((n, g) => n + g.length, 0),
    repackWrittenBytes: plan.writtenBytes,
    repackRefused: plan.refused,
    repackNeedsKey,
    keptPacks: packs.size - deadPacks.length + plan.groups.length,
    rescued: 0,
    deferredPacks,
    deferredBytes,
    deferredFor,
    ...(Number.isFinite(nextDeletable) ? { nextDeletableAt: new Date(nextDeletable).toISOString() } : {}),
    feeAvoided: round(feeAvoided),
    feePaid: round(feePaid),
    taggedGarbage: 0,
    garbageWaiting: taggedWaiting,
    locksExtended: 0,
    forgottenCatalogs: 0,
  };
  if (o.dryRun) return result;
  await o.onPhase?.('marked');

  await deleteRows(repo, layout.itemTable, mark.deadItemRows);
  await o.onPhase?.('items-deleted');
  if (privateKey && plan.groups.length) {
    const r = await repackPacks(repo, privateKey, plan, packs, o.onRepackPack);
    result.reclaimBytes += plan.writtenBytes - r.writtenBytes; // the prediction is exact; the figure reports what was written
    result.repackWrittenBytes = r.writtenBytes;
    result.repackedChunks = r.chunks;
  }
  await o.onPhase?.('repacked');
  const deadChunkRows = deadPacks.flatMap((id) => perPack.get(id)!.dead.map((c) => chunks.get(c)!));
  await deleteRows(repo, layout.chunkTable, deadChunkRows.map((r) => ({ pk: r.partitionKey, rk: r.rowKey })));
  await o.onPhase?.('chunk-rows-deleted');

  if (o.graceMs) await new Promise((r) => setTimeout(r, o.graceMs));
  const rescuedPacks = await recheck(repo, mark, new Set(deadChunkRows.map((r) => r.rowKey)), chunks);
  result.rescued = rescuedPacks.chunks;
  await o.onPhase?.('rechecked');

  const toDelete = deadPacks.filter((id) => !rescuedPacks.packs.has(id));
  const deletePackBlob = async (id: string) => {
    if (!(await deleteOrTag(repo, layout.packContainer, packBlobName(id)))) {
      // Nothing references it any more (its rows are gone): the lifecycle rule removes it once its lock ends.
      result.taggedGarbage++;
      result.reclaimBytes -= blobInfo.get(id)?.size ?? 0;
    }
  };
  await forEachConcurrent(toDelete, 8, async (id) => {
    await tables.delete(layout.packTable, packs.get(id)!.partitionKey, id);
    await deleteOrTag(repo, layout.metaContainer, packIndexBlobName(id));
    await deletePackBlob(id);
  });
  await forEachConcurrent(unreferenced, 8, async (id) => {
    await deleteOrTag(repo, layout.metaContainer, packIndexBlobName(id));
    await deletePackBlob(id);
  });
  await deleteOrphanedPackIndexes(repo, old);
  result.forgottenCatalogs = await deleteForgottenCatalogs(repo, mark.seqs);
  await o.onPhase?.('packs-deleted');
  // Repacked packs are dead now (their new packs were locked when written), unless a backup rescued them.
  const live = [...perPack].filter(([id, p]) => (p.live > 0 && !repacked.has(id)) || rescuedPacks.packs.has(id)).map(([id]) => id);
  result.locksExtended = await extendLiveLocks(repo, live, blobInfo, mark.seqs, now());
  if (rescuedPacks.packs.size) {
    result.deadPacks -= rescuedPacks.packs.size;
    result.keptPacks += rescuedPacks.packs.size;
    result.reclaimBytes -= [...rescuedPacks.packs].reduce((n, id) => n + (blobInfo.get(id)?.size ?? 0), 0);
  }
  return result;
}

/**
 * Maintenance of immutability generations (packLocks.ts), as kopia's maintenance extends retention:
 * a kept snapshot's data must stay locked even when no backup re-reads it (an unchanged item is
 * carried into new snapshots without a chunk lookup). Every kept pack (and its pack index), every
 * committed snapshot's catalog and the newest configuration backup whose lock ends before the
 * horizon (now + days) is extended to the current generation's end. Locks known from the listings:
 * only blobs that need it cost a request. No-op without a lock policy.
 */
async function extendLiveLocks(repo: Repository, keptPacks: string[], blobInfo: Map<string, BlobInfo>, seqs: Map<string, number[]>, now: number): Promise<number> {
  const w = lockWindow(repo, now);
  if (!w) return 0;
  const needs = (b: BlobInfo | undefined) => !!b && lockEndsBefore(w, b.immutableUntil);
  const jobs: [string, string][] = [];
  for (const id of keptPacks) if (needs(blobInfo.get(id))) jobs.push([repo.layout.packContainer, packBlobName(id)], [repo.layout.metaContainer, packIndexBlobName(id)]);
  const committed = new Set([...seqs].flatMap(([p, list]) => list.map((q) => catalogBlobName(p, q))));
  for await (const b of repo.blobs.list(repo.layout.metaContainer, { prefix: 'catalog/' })) if (committed.has(b.name) && needs(b)) jobs.push([repo.layout.metaContainer, b.name]);
  await forEachConcurrent(jobs, 8, async ([c, n]) => {
    try {
      await setLock(repo, c, n, w);
    } catch (e) {
      if (!isBackupError(e, 'NOT_FOUND')) throw e;
    }
  });
  await keepConfigBackupLocked(repo, () => repo.configRows(), now);
  return jobs.length;
}

/**
 * Deletes a blob nothing references any more; when storage refuses (IMMUTABLE: locked or held), tags
 * it garbage for the lifecycle rule instead. True when deleted (or already gone).
 */
async function deleteOrTag(repo: Repository, container: string, name: string): Promise<boolean> {
  try {
    await repo.blobs.deleteBlob(container, name);
    return true;
  } catch (e) {
    if (!isBackupError(e, 'IMMUTABLE')) throw e;
    await repo.blobs.setTags(container, name, GARBAGE_TAGS);
    return false;
  }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * Packs with live chunks and bytes no live chunk row points to: dead chunks, and chunks whose rows
 * point elsewhere since an interrupted repack (size less the live chunks and the pack's tail).
 */
function partlyUsedPacks(perPack: Map<string, { liveRows: StoredRow[] }>, packs: Map<string, StoredRow>): PartlyUsedPack[] {
  const out: PartlyUsedPack[] = [];
  for (const [packId, p] of perPack) {
    if (!p.liveRows.length) continue;
    const row = packs.get(packId)!;
    const size = Number(row.size ?? 0);
    const live = p.liveRows.map((r) => ({ id: r.rowKey, pack: packId, off: Number(r.off), len: Number(r.len), raw: Number(r.raw) }));
    const deadBytes = size - live.reduce((n, c) => n + c.len, 0) - tailBytes(Number(row.chunks ?? 0), (row.sealedKey as Uint8Array | undefined)?.length ?? 0);
    if (deadBytes > 0) out.push({ packId, size, live, deadBytes });
  }
  return out;
}

/** Bytes of a sealed pack key, as the pack rows hold them (X25519 sealing: 92). */
function sealedKeyBytes(packs: Map<string, StoredRow>): number {
  for (const r of packs.values()) if (r.sealedKey instanceof Uint8Array) return r.sealedKey.length;
  return 92;
}

/**
 * What prune would do now, without taking its leases (for the storage report): a dry run whose
 * figures may be slightly off while a backup is writing. Never deletes anything.
 */
export function pruneEstimate(repo: Repository, options: Pick<PruneOptions, 'prices' | 'now' | 'earlyDeletion' | 'marginMs'> = {}): Promise<PruneResult> {
  return pruneLocked(repo, { ...options, dryRun: true });
}

/** Deletes the item versions no committed snapshot needs (prune's first sweep step, for rebuild-index after a forget). */
export async function deleteDeadItemRows(repo: Repository): Promise<number> {
  const mark = await markLive(repo);
  await deleteRows(repo, repo.layout.itemTable, mark.deadItemRows);
  return mark.deadItemRows.length;
}

/**
 * Catalog blobs of forgotten snapshots (an authentic marker, no snapshot row) are deleted, then their
 * markers; a locked catalog is tagged garbage and keeps its marker (rebuild-index must still skip it).
 */
async function deleteForgottenCatalogs(repo: Repository, seqs: Map<string, number[]>): Promise<number> {
  let deleted = 0;
  for (const [key, marker] of await forgottenSnapshots(repo)) {
    const [partition, seqText] = key.split('/') as [string, string];
    const seq = Number(seqText);
    if (seqs.get(partition)?.includes(seq)) continue; // committed again? never delete what a snapshot row names
    if (await deleteOrTag(repo, repo.layout.metaContainer, catalogBlobName(partition, seq))) {
      await repo.blobs.deleteBlob(repo.layout.metaContainer, marker);
      deleted++;
    }
  }
  return deleted;
}

/** Partition tokens that have committed snapshots (their writer locks are what prune takes). */
async function partitionsWithSnapshots(repo: Repository): Promise<string[]> {
  const out = new Set<string>();
  for await (const r of repo.tables.query(repo.layout.snapshotTable, { filter: `RowKey lt 'a'`, select: ['PartitionKey'] }))
    if (/^p[0-9a-f]{32}$/.test(r.partitionKey)) out.add(r.partitionKey);
  return [...out].sort();
}

async function committedSeqs(repo: Repository): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for await (const r of repo.tables.query(repo.layout.snapshotTable, { filter: `RowKey lt 'a'`, select: ['PartitionKey', 'seq'] })) {
    if (!/^p[0-9a-f]{32}$/.test(r.partitionKey)) continue;
    const list = out.get(r.partitionKey) ?? [];
    list.push(Number(r.rowKey));
    out.set(r.partitionKey, list);
  }
  for (const l of out.values()) l.sort((a, b) => a - b);
  return out;
}

/** Live item versions and the chunks they list. */
async function markLive(repo: Repository): Promise<Mark> {
  const seqs = await committedSeqs(repo);
  const newest = new Map([...seqs].map(([p, l]) => [p, l.at(-1) ?? -1]));
  const rows = new Map<string, StoredRow>();
  for await (const r of repo.tables.query(repo.layout.itemTable)) rows.set(`${r.partitionKey}/${r.rowKey}`, r);
  const deadItemRows: { pk: string; rk: string }[] = [];
  const liveChunks = new Set<string>();
  for (const [name, head] of rows) {
    if (name.includes('~')) continue;
    const partition = head.partitionKey.split('-')[0]!;
    const f = Number(head.f);
    const t = head.t === undefined ? OPEN_END : Number(head.t);
    const group = [head];
    for (let i = 1; i <= Number(head.n ?? 0); i++) {
      const c = rows.get(`${name}~${i}`);
      if (c) group.push(c);
    }
    const list = seqs.get(partition) ?? [];
    const live = f > (newest.get(partition) ?? -1) || list.some((s) => s >= f && s < t);
    if (!live) {
      for (const r of group) deadItemRows.push({ pk: r.partitionKey, rk: r.rowKey });
      continue;
    }
    try {
      const { chunkIds } = splitPayload(joinPayload(group), `the payload of item row ${name}`);
      for (let i = 0; i < chunkIds.length; i += 32) liveChunks.add(chunkIds.toString('hex', i, i + 32));
    } catch (e) {
      // A damaged live row: prune cannot tell what it needs, so it deletes nothing at all.
      if (isBackupError(e, 'INTEGRITY')) throw new BackupError('INTEGRITY', `Prune stopped before deleting anything: ${e.message} (run verify).`);
      throw e;
    }
  }
  return { deadItemRows, liveChunks, newest, seqs };
}

/**
 * Step 4: item rows written since the mark (above the partition's newest committed snapshot then, or
 * in a partition that had none) that list a dead chunk get that chunk row back; its pack is kept.
 */
async function recheck(repo: Repository, mark: Mark, dead: Set<string>, chunks: Map<string, StoredRow>): Promise<{ packs: Set<string>; chunks: number }> {
  const rows = new Map<string, StoredRow>();
  for await (const r of repo.tables.query(repo.layout.itemTable)) rows.set(`${r.partitionKey}/${r.rowKey}`, r);
  const need = new Set<string>();
  for (const [name, head] of rows) {
    if (name.includes('~')) continue;
    if (Number(head.f) <= (mark.newest.get(head.partitionKey.split('-')[0]!) ?? -1)) continue;
    const group = [head];
    for (let i = 1; i <= Number(head.n ?? 0); i++) {
      const c = rows.get(`${name}~${i}`);
      if (c) group.push(c);
    }
    const { chunkIds } = splitPayload(joinPayload(group), `the payload of item row ${name}`);
    for (let i = 0; i < chunkIds.length; i += 32) {
      const id = chunkIds.toString('hex', i, i + 32);
      if (dead.has(id)) need.add(id);
    }
  }
  const packs = new Set<string>();
  for (const id of need) {
    const { etag: _e, ...row } = chunks.get(id)!;
    await repo.tables.upsert(repo.layout.chunkTable, row);
    packs.add(String(row.pack));
  }
  // A kept pack keeps every chunk row it had: put back the other dead rows of rescued packs too.
  for (const [id, r] of chunks)
    if (dead.has(id) && !need.has(id) && packs.has(String(r.pack))) {
      const { etag: _e, ...row } = r;
      await repo.tables.upsert(repo.layout.chunkTable, row);
    }
  return { packs, chunks: need.size };
}

/**
 * Pack-index blobs whose pack has neither a row nor a blob (left by a crash between steps), older than
 * the margin. Rows and blobs are listed afresh: a backup running meanwhile may have added packs.
 */
async function deleteOrphanedPackIndexes(repo: Repository, old: (b: { lastModified?: Date }) => boolean): Promise<void> {
  const known = new Set<string>();
  for await (const r of repo.tables.query(repo.layout.packTable, { select: ['PartitionKey'] })) known.add(r.rowKey);
  for await (const b of repo.blobs.list(repo.layout.packContainer)) known.add(b.name.split('/').pop()!);
  const orphans: string[] = [];
  for await (const b of repo.blobs.list(repo.layout.metaContainer, { prefix: 'packindex/' }))
    if (!known.has(b.name.split('/').pop()!) && old(b)) orphans.push(b.name);
  await forEachConcurrent(orphans, 8, async (n) => void (await deleteOrTag(repo, repo.layout.metaContainer, n)));
}

/** Deletes rows (absent ones included) in 100-row batches per partition; a batch that meets an absent row is redone row by row. */
async function deleteRows(repo: Repository, table: string, rows: { pk: string; rk: string }[]): Promise<void> {
  const byPartition = new Map<string, string[]>();
  for (const r of rows) byPartition.set(r.pk, [...(byPartition.get(r.pk) ?? []), r.rk]);
  const groups: { pk: string; rks: string[] }[] = [];
  for (const [pk, rks] of byPartition) for (let i = 0; i < rks.length; i += 100) groups.push({ pk, rks: rks.slice(i, i + 100) });
  await forEachConcurrent(groups, 4, async (g) => {
    const ops: RowOperation[] = g.rks.map((rk) => ({ kind: 'delete', partitionKey: g.pk, rowKey: rk }));
    try {
      await repo.tables.batch(table, ops);
    } catch (e) {
      if (!isBackupError(e, 'NOT_FOUND')) throw e;
      for (const rk of g.rks) await repo.tables.delete(table, g.pk, rk);
    }
  });
}
