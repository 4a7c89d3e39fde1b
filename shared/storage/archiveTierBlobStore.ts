import { randomBytes } from 'node:crypto';
import { BackupError } from '../errors';
import {
  ONLINE_TIERS,
  type AccessTier,
  type BlobCapabilities,
  type BlobInfo,
  type BlobStore,
  type CallOptions,
  type DeleteBlobOptions,
  type GetBlobOptions,
  type ImmutabilityPolicy,
  type ListOptions,
  type PutBlobOptions,
  type SetTierOptions,
} from './blobStore';
import { DAY_MS, EmulatorState, systemClock, type Clock } from './emulatorState';

/** Azure's minimum days in a tier; leaving it earlier is charged for the remaining days. */
export const MIN_DAYS: Readonly<Record<AccessTier, number>> = { Hot: 0, Cool: 30, Cold: 90, Archive: 180 };

export interface ArchiveTierOptions {
  /** Container of the inner store holding the emulator's state (default `emulated-archive`). */
  stateContainer?: string;
  /** Rehydration time by priority, ms (defaults: Standard 15 h, High 1 h, Azure's upper bounds). */
  rehydrateMs?: { Standard?: number; High?: number };
  clock?: Clock;
  /** Blobs that go to Archive as soon as they are committed (emulates the lifecycle rule for packs). */
  archiveOnCommit?: (container: string, name: string) => boolean;
}

/** One early-deletion charge: the prorated days still owed when a blob left its tier early. */
export interface EarlyDeletionCharge {
  container: string;
  name: string;
  tier: AccessTier;
  /** Days still owed (minimum days minus days spent), fractional. */
  days: number;
  reason: 'delete' | 'overwrite' | 'retier';
  at: string;
}

/** What the emulator knows of one blob: its tier since when, a pending rehydration, the blob version. */
interface TierState {
  tier: AccessTier;
  since: number;
  rehydrate?: { to: AccessTier; doneAt: number };
  /** The inner blob's ETag the state belongs to: a blob rewritten behind the emulator's back drops it. */
  etag: string;
}

/**
 * The blob contract with Azure's Archive tier behaviour over a store without it (Azurite):
 * archived blobs cannot be read (BLOB_ARCHIVED) until a rehydration started by `setTier` completes
 * after a delay; leaving Cool/Cold/Archive early is recorded as an early-deletion charge.
 *
 * State lives in the inner store (one JSON blob per blob that is Cold, Archive or was re-tiered,
 * under `tier/<container>/<name>`, and ledger entries under `charges/`, in `stateContainer`), so it
 * survives restarts and is shared by every process using the same account. Blobs without state
 * have the inner store's tier; the inner blob itself is never moved to Archive or Cold.
 */
export class ArchiveTierBlobStore implements BlobStore {
  readonly capabilities: BlobCapabilities;
  private readonly tiers: EmulatorState<TierState>;
  private readonly charges: EmulatorState<EarlyDeletionCharge>;
  private readonly clock: Clock;
  private readonly rehydrateMs: { Standard: number; High: number };

  constructor(
    private readonly inner: BlobStore,
    private readonly options: ArchiveTierOptions = {},
  ) {
    const stateContainer = options.stateContainer ?? 'emulated-archive';
    this.tiers = new EmulatorState(inner, stateContainer, 'tier');
    this.charges = new EmulatorState(inner, stateContainer, 'charges');
    this.clock = options.clock ?? systemClock;
    this.rehydrateMs = { Standard: options.rehydrateMs?.Standard ?? 15 * 3600_000, High: options.rehydrateMs?.High ?? 3600_000 };
    this.capabilities = { ...inner.capabilities, archive: true };
  }

  /** Every early-deletion charge recorded so far, oldest first. */
  async earlyDeletionCharges(): Promise<EarlyDeletionCharge[]> {
    return this.charges.entries<EarlyDeletionCharge>();
  }

  /**
   * Completes every pending rehydration in the container now, as if its delay were over (tests
   * drive "the hours are up" this way instead of waiting). Returns how many completed.
   */
  async completeRehydrations(container: string, prefix = ''): Promise<number> {
    let done = 0;
    for (const name of await this.tiers.names(container, prefix)) {
      const now = this.clock();
      await this.tiers.update(container, name, (s) => {
        if (!s?.rehydrate || s.rehydrate.doneAt <= now) return s;
        done++;
        return { ...s, rehydrate: { ...s.rehydrate, doneAt: now } };
      });
    }
    return done;
  }

  /** The blob's effective tier state now (a due rehydration has completed), or undefined when none applies. */
  private async state(container: string, name: string, etag?: string): Promise<TierState | undefined> {
    const s = await this.tiers.get(container, name);
    if (!s) return undefined;
    if (etag !== undefined && s.etag !== etag) return undefined;
    return this.resolve(s);
  }

  private resolve(s: TierState): TierState {
    if (s.rehydrate && this.clock() >= s.rehydrate.doneAt) return { tier: s.rehydrate.to, since: s.rehydrate.doneAt, etag: s.etag };
    return s;
  }

  /** Tier and since of an existing blob, from state or from the inner store. */
  private async current(container: string, name: string): Promise<{ info: BlobInfo; state?: TierState } | undefined> {
    const info = await this.inner.stat(container, name);
    if (!info) return undefined;
    return { info, state: await this.state(container, name, info.etag) };
  }

  private async charge(container: string, name: string, tier: AccessTier, since: number, reason: EarlyDeletionCharge['reason']): Promise<void> {
    if (MIN_DAYS[tier] === 0) return; // Hot has no minimum (and a clock skewed against the blob's time must not invent one)
    const now = this.clock();
    const owed = MIN_DAYS[tier] - (now - since) / DAY_MS;
    if (owed <= 0) return;
    const at = new Date(now).toISOString();
    const entry: EarlyDeletionCharge = { container, name, tier, days: Math.round(owed * 1000) / 1000, reason, at };
    await this.charges.append(`${String(now).padStart(15, '0')}-${randomBytes(4).toString('hex')}`, entry);
  }

  /** Records the tier of a blob just written through the emulator. */
  private async written(container: string, name: string, etag: string, tier: AccessTier | undefined): Promise<void> {
    const effective = this.options.archiveOnCommit?.(container, name) ? 'Archive' : tier;
    if (effective === 'Archive' || effective === 'Cold') await this.tiers.update(container, name, () => ({ tier: effective, since: this.clock(), etag }));
    else await this.tiers.remove(container, name);
  }

  /** The inner store gets Hot or Cool only: Archive and Cold live in the emulator's state (Azurite's own Archive rehydrates at once). */
  private innerTier(tier: AccessTier | undefined): AccessTier | undefined {
    return tier === 'Archive' || tier === 'Cold' ? 'Cool' : tier;
  }

  ensureContainer(container: string, options?: CallOptions): Promise<void> {
    return this.inner.ensureContainer(container, options);
  }

  containerExists(container: string, options?: CallOptions): Promise<boolean> {
    return this.inner.containerExists(container, options);
  }

  async deleteContainer(container: string, options: CallOptions = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    if (await this.inner.containerExists(container, options)) {
      for await (const b of this.list(container, options)) {
        const since = (await this.state(container, b.name, b.etag))?.since ?? b.lastModified?.getTime();
        if (b.tier && since !== undefined) await this.charge(container, b.name, b.tier, since, 'delete');
      }
    }
    await this.inner.deleteContainer(container, options);
    for (const name of await this.tiers.names(container)) await this.tiers.remove(container, name);
  }

  async putBlob(container: string, name: string, data: Uint8Array, options: PutBlobOptions = {}): Promise<string> {
    options.abortSignal?.throwIfAborted();
    const existing = options.ifNoneMatch ? undefined : await this.current(container, name);
    const etag = await this.inner.putBlob(container, name, data, { ...options, tier: this.innerTier(options.tier) });
    if (existing) await this.chargeReplaced(container, name, existing);
    await this.written(container, name, etag, options.tier);
    return etag;
  }

  stageBlock(container: string, name: string, blockId: string, data: Uint8Array | Uint8Array[], options?: CallOptions): Promise<void> {
    return this.inner.stageBlock(container, name, blockId, data, options);
  }

  async commitBlocks(container: string, name: string, blockIds: string[], options: PutBlobOptions = {}): Promise<string> {
    options.abortSignal?.throwIfAborted();
    const existing = options.ifNoneMatch ? undefined : await this.current(container, name);
    const etag = await this.inner.commitBlocks(container, name, blockIds, { ...options, tier: this.innerTier(options.tier) });
    if (existing) await this.chargeReplaced(container, name, existing);
    await this.written(container, name, etag, options.tier);
    return etag;
  }

  /** Charges a blob that is being replaced or deleted for leaving its tier early. */
  private async chargeReplaced(container: string, name: string, existing: { info: BlobInfo; state?: TierState }, reason: 'delete' | 'overwrite' = 'overwrite'): Promise<void> {
    const tier = existing.state?.tier ?? existing.info.tier;
    const since = existing.state?.since ?? existing.info.lastModified?.getTime();
    if (tier && since !== undefined) await this.charge(container, name, tier, since, reason);
  }

  async getBlob(container: string, name: string, options: GetBlobOptions = {}): Promise<Buffer> {
    options.abortSignal?.throwIfAborted();
    const s = await this.state(container, name);
    if (s?.tier === 'Archive') {
      // The state may belong to an older version of the blob: only the current one is archived.
      const info = await this.inner.stat(container, name, options);
      if (info && info.etag === s.etag)
        throw new BackupError('BLOB_ARCHIVED', `read blob ${container}/${name}: the blob is in the Archive tier and must be rehydrated first.`);
    }
    return this.inner.getBlob(container, name, options);
  }

  async stat(container: string, name: string, options?: CallOptions): Promise<BlobInfo | undefined> {
    const info = await this.inner.stat(container, name, options);
    if (!info) return undefined;
    return this.withState(info, await this.state(container, name, info.etag));
  }

  private withState(info: BlobInfo, s: TierState | undefined): BlobInfo {
    if (!s) return info;
    return { ...info, tier: s.tier, tierSince: new Date(s.since), archiveStatus: s.rehydrate ? `rehydrate-pending-to-${s.rehydrate.to.toLowerCase()}` : undefined };
  }

  async *list(container: string, options: ListOptions = {}): AsyncIterableIterator<BlobInfo> {
    options.abortSignal?.throwIfAborted();
    const withState = new Set(await this.tiers.names(container, options.prefix ?? ''));
    for await (const b of this.inner.list(container, options)) yield withState.has(b.name) ? this.withState(b, await this.state(container, b.name, b.etag)) : b;
  }

  async deleteBlob(container: string, name: string, options: DeleteBlobOptions = {}): Promise<boolean> {
    options.abortSignal?.throwIfAborted();
    const cur = await this.current(container, name);
    const deleted = await this.inner.deleteBlob(container, name, options);
    if (deleted && cur) await this.chargeReplaced(container, name, cur, 'delete');
    if (deleted) await this.tiers.remove(container, name);
    return deleted;
  }

  getTags(container: string, name: string, options?: CallOptions): Promise<Record<string, string>> {
    return this.inner.getTags(container, name, options);
  }

  setTags(container: string, name: string, tags: Record<string, string>, options?: CallOptions): Promise<void> {
    return this.inner.setTags(container, name, tags, options);
  }

  async setTier(container: string, name: string, tier: AccessTier, options: SetTierOptions = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    const cur = await this.current(container, name);
    if (!cur) throw new BackupError('NOT_FOUND', `set tier of ${container}/${name}: not found.`);
    const from = cur.state?.tier ?? cur.info.tier ?? 'Hot';
    const since = cur.state?.since ?? cur.info.lastModified?.getTime() ?? this.clock();
    const now = this.clock();
    if (cur.state?.rehydrate) {
      if (tier !== cur.state.rehydrate.to)
        throw new BackupError('STORAGE', `set tier of ${container}/${name}: the blob is being rehydrated to ${cur.state.rehydrate.to}; its tier cannot change until that completes.`);
      // Raising the priority of a pending rehydration can only bring it forward.
      const doneAt = Math.min(cur.state.rehydrate.doneAt, now + this.rehydrateMs[options.rehydratePriority ?? 'Standard']);
      await this.tiers.update(container, name, (s) => (s ? { ...s, rehydrate: { to: tier, doneAt } } : s));
      return;
    }
    if (from === tier) return;
    await this.charge(container, name, from, since, 'retier');
    if (from === 'Archive' && ONLINE_TIERS.has(tier)) {
      const doneAt = now + this.rehydrateMs[options.rehydratePriority ?? 'Standard'];
      await this.tiers.update(container, name, () => ({ tier: 'Archive', since, etag: cur.info.etag, rehydrate: { to: tier, doneAt } }));
      return;
    }
    const innerTier = this.innerTier(tier)!;
    let etag = cur.info.etag;
    if (cur.info.tier !== innerTier) {
      await this.inner.setTier(container, name, innerTier, options);
      etag = (await this.inner.stat(container, name, options))?.etag ?? etag;
    }
    await this.tiers.update(container, name, () => ({ tier, since: now, etag }));
  }

  setImmutability(container: string, name: string, policy: ImmutabilityPolicy, options?: CallOptions): Promise<void> {
    return this.inner.setImmutability(container, name, policy, options);
  }

  removeImmutability(container: string, name: string, options?: CallOptions): Promise<void> {
    return this.inner.removeImmutability(container, name, options);
  }

  setLegalHold(container: string, name: string, hold: boolean, options?: CallOptions): Promise<void> {
    return this.inner.setLegalHold(container, name, hold, options);
  }

  readOnlyUrl(container: string, name: string, expiresOn: Date, options?: CallOptions): Promise<string> {
    return this.inner.readOnlyUrl(container, name, expiresOn, options);
  }
}
