/**
 * The blob half of the storage contract. `AzureBlobStore` implements it over the Azure SDK; the
 * wrappers (fault injection, Archive-tier and immutability emulators) implement it over another
 * `BlobStore`. Every implementation must pass `test/storage/contract.ts`.
 *
 * Rules common to every method:
 * - Failures are `BackupError`s with a code (never an SDK error): NOT_FOUND, ALREADY_EXISTS,
 *   PRECONDITION_FAILED, BLOB_ARCHIVED, IMMUTABLE, STORAGE_UNREACHABLE, STORAGE. A method lists the
 *   codes a caller can act on; STORAGE_UNREACHABLE and STORAGE can come from any method.
 * - `options.abortSignal`: an already-aborted signal rejects before any request is sent; aborting
 *   during a call rejects it. Either way the rejection is the signal's reason (an `AbortError`), not
 *   a BackupError, so retry loops do not retry it. An aborted write may or may not have happened.
 * - Consistency is strong (read-your-writes, also for `list` and `stat`), as in Azure Storage.
 * - A write that fails with STORAGE or STORAGE_UNREACHABLE may still have happened (the reply was
 *   lost): callers make writes idempotent or conditional, never assume "failed = not written".
 * - Names: containers are Azure container names (3-63 lower-case letters, digits, dashes); blob
 *   names are any non-empty string up to 1024 characters, "/" is an ordinary character.
 */
export interface BlobStore {
  /** What this store really does; callers and the conformance suite branch on it, never on the class. */
  readonly capabilities: BlobCapabilities;

  /** Creates the container if absent; succeeds if present. Idempotent. */
  ensureContainer(container: string, options?: CallOptions): Promise<void>;

  containerExists(container: string, options?: CallOptions): Promise<boolean>;

  /**
   * Deletes the container and every blob in it; succeeds if absent (idempotent). IMMUTABLE when a
   * blob in it is under an unexpired immutability policy or a legal hold (nothing is deleted).
   */
  deleteContainer(container: string, options?: CallOptions): Promise<void>;

  /**
   * Writes a whole blob in one request, atomically: readers see the old content or the new, never a
   * mix. Returns the new ETag (changes on every write). NOT_FOUND when the container is absent;
   * ALREADY_EXISTS or PRECONDITION_FAILED (Azurite and Azure differ: treat both as "lost the race")
   * when `ifNoneMatch` and the blob exists or `ifMatch` and its ETag differs; IMMUTABLE when the blob
   * exists under a policy or a legal hold.
   */
  putBlob(container: string, name: string, data: Uint8Array, options?: PutBlobOptions): Promise<string>;

  /**
   * Stages one uncommitted block (id: base64, every id of a blob the same length). Invisible to
   * `getBlob`/`stat`/`list` until `commitBlocks`; uncommitted blocks are dropped by the service after
   * a week. Restaging the same id replaces it (idempotent). Several buffers are sent as one block.
   */
  stageBlock(container: string, name: string, blockId: string, data: Uint8Array | Uint8Array[], options?: CallOptions): Promise<void>;

  /**
   * Atomically makes the listed staged blocks the blob's content (readers see all or nothing).
   * Returns the ETag. Conditions, tags, tier and failure codes as `putBlob`; STORAGE when a block id
   * was never staged. Recommitting the same list after a lost reply gives the same content.
   */
  commitBlocks(container: string, name: string, blockIds: string[], options?: PutBlobOptions): Promise<string>;

  /**
   * Reads a blob, or the byte range [offset, offset+count) clipped to its size. NOT_FOUND,
   * BLOB_ARCHIVED (in Archive or still rehydrating: `stat` tells which). Never sees staged blocks.
   */
  getBlob(container: string, name: string, options?: GetBlobOptions): Promise<Buffer>;

  /** Properties of a committed blob, or undefined when it does not exist (also in an absent container). */
  stat(container: string, name: string, options?: CallOptions): Promise<BlobInfo | undefined>;

  /**
   * Committed blobs whose names start with `prefix`, in name order (UTF-8 binary), fetched
   * `pageSize` at a time (default 5000, at most 5000). NOT_FOUND when the container is absent.
   */
  list(container: string, options?: ListOptions): AsyncIterableIterator<BlobInfo>;

  /**
   * Deletes a blob; returns false when it was already absent (idempotent; also for an absent
   * container). PRECONDITION_FAILED when `ifMatch` differs; IMMUTABLE under a policy or legal hold.
   */
  deleteBlob(container: string, name: string, options?: DeleteBlobOptions): Promise<boolean>;

  /** The blob's index tags ({} when none). NOT_FOUND. */
  getTags(container: string, name: string, options?: CallOptions): Promise<Record<string, string>>;

  /**
   * Replaces the blob's index tags. Tags are not content: allowed on a blob under an immutability
   * policy or a legal hold (Azure permits Set Blob Tags on immutable blobs), and the blob's ETag and
   * tier-minimum clock do not change. NOT_FOUND.
   */
  setTags(container: string, name: string, tags: Record<string, string>, options?: CallOptions): Promise<void>;

  /**
   * Moves a blob to another tier. From Archive to Hot/Cool/Cold it starts rehydration: `stat` shows
   * tier Archive and archiveStatus `rehydrate-pending-to-<tier>` until it completes (hours in Azure),
   * reads fail with BLOB_ARCHIVED meanwhile. Setting the tier a blob already has is a no-op. Leaving
   * Cool/Cold/Archive early may be charged (early deletion). NOT_FOUND.
   */
  setTier(container: string, name: string, tier: AccessTier, options?: SetTierOptions): Promise<void>;

  /**
   * Sets the blob's (version-level) immutability policy: until `until` the blob cannot be
   * overwritten or deleted (IMMUTABLE). An Unlocked policy can be shortened, extended or removed;
   * a Locked one only extended: shortening it, unlocking it or removing it fails with IMMUTABLE.
   * Idempotent for the same policy. NOT_FOUND; STORAGE when `capabilities.immutability` is false.
   */
  setImmutability(container: string, name: string, policy: ImmutabilityPolicy, options?: CallOptions): Promise<void>;

  /** Removes an Unlocked policy (succeeds when none); IMMUTABLE for a Locked one. NOT_FOUND; STORAGE without the capability. */
  removeImmutability(container: string, name: string, options?: CallOptions): Promise<void>;

  /**
   * Sets or clears a legal hold, independent of the policy: while set, the blob cannot be
   * overwritten or deleted (IMMUTABLE). Idempotent. NOT_FOUND; STORAGE without the capability.
   */
  setLegalHold(container: string, name: string, hold: boolean, options?: CallOptions): Promise<void>;

  /**
   * A time-limited, read-only URL of one blob (a SAS). Reads through it bypass any wrapper, so the
   * emulators' Archive/WORM rules do not apply to them. USAGE when the connection cannot sign.
   */
  readOnlyUrl(container: string, name: string, expiresOn: Date, options?: CallOptions): Promise<string>;
}

export type AccessTier = 'Hot' | 'Cool' | 'Cold' | 'Archive';

export interface BlobCapabilities {
  /** Archive is real: archived blobs cannot be read and rehydration takes time. */
  archive: boolean;
  /** setImmutability/setLegalHold work and are enforced. */
  immutability: boolean;
}

export interface CallOptions {
  abortSignal?: AbortSignal;
}

export interface BlobInfo {
  name: string;
  size: number;
  etag: string;
  /** When the blob's content was last written. */
  lastModified?: Date;
  tier?: AccessTier;
  /**
   * Since when the blob is in its tier (Azure's access-tier change time, else its creation): the
   * start of the tier's minimum-days clock (early deletion). Undefined when the store cannot tell.
   */
  tierSince?: Date;
  /** Azure's value while rehydrating, e.g. `rehydrate-pending-to-cool`; undefined otherwise. */
  archiveStatus?: string;
  /** End of the immutability policy, when the blob has one (expired policies may still be shown). */
  immutableUntil?: Date;
  immutabilityMode?: ImmutabilityMode;
  legalHold?: boolean;
}

export type ImmutabilityMode = 'Unlocked' | 'Locked';

export interface ImmutabilityPolicy {
  until: Date;
  mode: ImmutabilityMode;
}

export interface PutBlobOptions extends CallOptions {
  /** Fail with ALREADY_EXISTS/PRECONDITION_FAILED when the blob exists. */
  ifNoneMatch?: boolean;
  /** Replace only this version (optimistic concurrency). */
  ifMatch?: string;
  tier?: AccessTier;
  /** Blob index tags (the lifecycle policy selects pack blobs by tag). */
  tags?: Record<string, string>;
}

export interface GetBlobOptions extends CallOptions {
  offset?: number;
  count?: number;
}

export interface ListOptions extends CallOptions {
  prefix?: string;
  /** Blobs fetched per request, 1..5000 (default 5000). */
  pageSize?: number;
}

export interface DeleteBlobOptions extends CallOptions {
  ifMatch?: string;
}

export interface SetTierOptions extends CallOptions {
  rehydratePriority?: 'High' | 'Standard';
}

/** The tiers a blob can be read in. */
export const ONLINE_TIERS: ReadonlySet<AccessTier> = new Set(['Hot', 'Cool', 'Cold']);
