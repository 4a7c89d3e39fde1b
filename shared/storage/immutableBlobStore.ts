import { BackupError } from '../errors';
import type {
  AccessTier,
  BlobCapabilities,
  BlobInfo,
  BlobStore,
  CallOptions,
  DeleteBlobOptions,
  GetBlobOptions,
  ImmutabilityMode,
  ImmutabilityPolicy,
  ListOptions,
  PutBlobOptions,
  SetTierOptions,
} from './blobStore';
import { DAY_MS, EmulatorState, systemClock, type Clock } from './emulatorState';

export interface ImmutabilityOptions {
  /** Container of the inner store holding the emulator's state (default `emulated-worm`). */
  stateContainer?: string;
  clock?: Clock;
  /** Container-level default policy: every blob written to the container gets `until = now + days`. */
  defaultPolicy?: Record<string, { days: number; mode?: ImmutabilityMode }>;
}

interface WormState {
  until?: number;
  mode?: ImmutabilityMode;
  legalHold: boolean;
  /** The blob version (inner ETag) the policy protects. */
  etag: string;
}

/**
 * Version-level WORM over a store without it (Azurite), as Azure enforces it: a blob with an
 * unexpired immutability policy or a legal hold cannot be overwritten or deleted (IMMUTABLE), nor
 * can its container; an Unlocked policy can be shortened or removed, a Locked one only extended.
 *
 * State lives in the inner store, one JSON blob per protected blob under `worm/<container>/<name>`
 * in `stateContainer`, so it survives restarts and is shared by every process on the account.
 * Writes that bypass the emulator (SAS, another client) are not prevented: state records the
 * protected version's ETag and does not apply to a different version.
 */
export class ImmutableBlobStore implements BlobStore {
  readonly capabilities: BlobCapabilities;
  private readonly worm: EmulatorState<WormState>;
  private readonly clock: Clock;

  constructor(
    private readonly inner: BlobStore,
    private readonly options: ImmutabilityOptions = {},
  ) {
    this.worm = new EmulatorState(inner, options.stateContainer ?? 'emulated-worm', 'worm');
    this.clock = options.clock ?? systemClock;
    this.capabilities = { ...inner.capabilities, immutability: true };
  }

  private protects(s: WormState | undefined): boolean {
    return !!s && (s.legalHold || (s.until !== undefined && s.until > this.clock()));
  }

  /** The state of the blob's current version, or undefined. */
  private async current(container: string, name: string, info?: BlobInfo): Promise<{ info: BlobInfo; state?: WormState } | undefined> {
    const i = info ?? (await this.inner.stat(container, name));
    if (!i) return undefined;
    const s = await this.worm.get(container, name);
    return { info: i, state: s && s.etag === i.etag ? s : undefined };
  }

  private refuse(what: string, container: string, name: string): never {
    throw new BackupError('IMMUTABLE', `${what} ${container}/${name}: the blob is under an immutability policy or a legal hold.`);
  }

  /** Refuses to replace a protected current version. */
  private async guardWrite(what: string, container: string, name: string): Promise<void> {
    const s = await this.worm.get(container, name);
    if (!this.protects(s)) return;
    const info = await this.inner.stat(container, name);
    if (info && info.etag === s!.etag) this.refuse(what, container, name);
  }

  /** Applies the container's default policy to a version just written, or forgets a stale state. */
  private async written(container: string, name: string, etag: string): Promise<void> {
    const def = this.options.defaultPolicy?.[container];
    if (def) await this.worm.update(container, name, () => ({ until: this.clock() + def.days * DAY_MS, mode: def.mode ?? 'Unlocked', legalHold: false, etag }));
    else await this.worm.remove(container, name);
  }

  ensureContainer(container: string, options?: CallOptions): Promise<void> {
    return this.inner.ensureContainer(container, options);
  }

  containerExists(container: string, options?: CallOptions): Promise<boolean> {
    return this.inner.containerExists(container, options);
  }

  async deleteContainer(container: string, options: CallOptions = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    for (const name of await this.worm.names(container)) {
      const cur = await this.current(container, name);
      if (cur && this.protects(cur.state)) throw new BackupError('IMMUTABLE', `delete container ${container}: blob ${name} is under an immutability policy or a legal hold.`);
    }
    await this.inner.deleteContainer(container, options);
    for (const name of await this.worm.names(container)) await this.worm.remove(container, name);
  }

  async putBlob(container: string, name: string, data: Uint8Array, options: PutBlobOptions = {}): Promise<string> {
    options.abortSignal?.throwIfAborted();
    await this.guardWrite('write blob', container, name);
    const etag = await this.inner.putBlob(container, name, data, options);
    await this.written(container, name, etag);
    return etag;
  }

  stageBlock(container: string, name: string, blockId: string, data: Uint8Array | Uint8Array[], options?: CallOptions): Promise<void> {
    return this.inner.stageBlock(container, name, blockId, data, options);
  }

  async commitBlocks(container: string, name: string, blockIds: string[], options: PutBlobOptions = {}): Promise<string> {
    options.abortSignal?.throwIfAborted();
    await this.guardWrite('commit blob', container, name);
    const etag = await this.inner.commitBlocks(container, name, blockIds, options);
    await this.written(container, name, etag);
    return etag;
  }

  getBlob(container: string, name: string, options?: GetBlobOptions): Promise<Buffer> {
    return this.inner.getBlob(container, name, options);
  }

  async stat(container: string, name: string, options?: CallOptions): Promise<BlobInfo | undefined> {
    const info = await this.inner.stat(container, name, options);
    if (!info) return undefined;
    return withState(info, (await this.current(container, name, info))?.state);
  }

  async *list(container: string, options: ListOptions = {}): AsyncIterableIterator<BlobInfo> {
    options.abortSignal?.throwIfAborted();
    const protectedNames = new Set(await this.worm.names(container, options.prefix ?? ''));
    for await (const b of this.inner.list(container, options)) yield protectedNames.has(b.name) ? withState(b, (await this.current(container, b.name, b))?.state) : withState(b, undefined);
  }

  async deleteBlob(container: string, name: string, options: DeleteBlobOptions = {}): Promise<boolean> {
    options.abortSignal?.throwIfAborted();
    await this.guardWrite('delete blob', container, name);
    const deleted = await this.inner.deleteBlob(container, name, options);
    if (deleted) await this.worm.remove(container, name);
    return deleted;
  }

  getTags(container: string, name: string, options?: CallOptions): Promise<Record<string, string>> {
    return this.inner.getTags(container, name, options);
  }

  /** Tags are not content: Azure allows them on an immutable blob. The inner write changes no ETag the state protects. */
  setTags(container: string, name: string, tags: Record<string, string>, options?: CallOptions): Promise<void> {
    return this.inner.setTags(container, name, tags, options);
  }

  /** Tiering is allowed on immutable blobs (as in Azure): it changes where, not what, is stored. */
  setTier(container: string, name: string, tier: AccessTier, options?: SetTierOptions): Promise<void> {
    return this.inner.setTier(container, name, tier, options);
  }

  async setImmutability(container: string, name: string, policy: ImmutabilityPolicy, options: CallOptions = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    const what = `set the immutability policy of ${container}/${name}`;
    const cur = await this.current(container, name);
    if (!cur) throw new BackupError('NOT_FOUND', `${what}: not found.`);
    const s = cur.state;
    const locked = s?.mode === 'Locked' && s.until !== undefined && s.until > this.clock();
    if (locked && (policy.mode !== 'Locked' || policy.until.getTime() < s.until!))
      throw new BackupError('IMMUTABLE', `${what}: a Locked policy can only be extended, not shortened, unlocked or removed.`);
    await this.worm.update(container, name, (prev) => ({ until: policy.until.getTime(), mode: policy.mode, legalHold: prev?.etag === cur.info.etag ? prev.legalHold : false, etag: cur.info.etag }));
  }

  async removeImmutability(container: string, name: string, options: CallOptions = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    const what = `remove the immutability policy of ${container}/${name}`;
    const cur = await this.current(container, name);
    if (!cur) throw new BackupError('NOT_FOUND', `${what}: not found.`);
    const s = cur.state;
    if (s?.mode === 'Locked' && s.until !== undefined && s.until > this.clock()) throw new BackupError('IMMUTABLE', `${what}: a Locked policy cannot be removed.`);
    if (!s) return;
    await this.worm.update(container, name, (prev) => (prev?.legalHold ? { legalHold: true, etag: prev.etag } : undefined));
  }

  async setLegalHold(container: string, name: string, hold: boolean, options: CallOptions = {}): Promise<void> {
    options.abortSignal?.throwIfAborted();
    const cur = await this.current(container, name);
    if (!cur) throw new BackupError('NOT_FOUND', `set the legal hold of ${container}/${name}: not found.`);
    await this.worm.update(container, name, (prev) => {
      const base = prev?.etag === cur.info.etag ? prev : undefined;
      if (!hold && base?.until === undefined) return undefined;
      return { ...base, legalHold: hold, etag: cur.info.etag };
    });
  }

  readOnlyUrl(container: string, name: string, expiresOn: Date, options?: CallOptions): Promise<string> {
    return this.inner.readOnlyUrl(container, name, expiresOn, options);
  }
}

function withState(info: BlobInfo, s: WormState | undefined): BlobInfo {
  return { ...info, immutableUntil: s?.until !== undefined ? new Date(s.until) : undefined, immutabilityMode: s?.until !== undefined ? s.mode : undefined, legalHold: s?.legalHold ?? false };
}
