import { createHash, randomBytes, type Hash } from 'node:crypto';
import { sealToPublicKey } from '../crypto';
import type { BlobStore } from '../storage';
import { packBlobName } from './layout';
import { packTail, type PackDescription, type PackEntry } from './packFormat';

const BLOCK_BYTES = 4 * 1024 * 1024;
const MAX_INFLIGHT_BLOCKS = 2;

/**
 * Streams sealed chunks into one pack blob with stageBlock/commitBlockList, never buffering the whole
 * pack. Nothing is visible until finish() commits, so an interrupted pack is never read.
 */
/** The blob index tag of pack blobs: infra's lifecycle rule moves blobs with it to Archive (pack indexes stay Hot). */
export const PACK_TAGS = { m365backup: 'pack' };

export class PackWriter {
  readonly packId = randomBytes(16).toString('hex');
  readonly packKey = randomBytes(32);
  readonly sealedKey: Buffer;
  private readonly entries: PackEntry[] = [];
  private readonly hash: Hash = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly blockIds: string[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private failure: unknown;
  size = 0;

  constructor(
    private readonly blobs: BlobStore,
    private readonly container: string,
    publicKey: Buffer,
  ) {
    this.sealedKey = sealToPublicKey(publicKey, this.packKey, `pack-key:${this.packId}`);
  }

  get chunkCount(): number {
    return this.entries.length;
  }

  /** Appends one sealed chunk, given as the pieces it was sealed in. Returns its sealed length. */
  add(chunkId: Buffer, pieces: Buffer[], rawLength: number): number {
    const length = pieces.reduce((n, b) => n + b.length, 0);
    this.entries.push({ chunkId, offset: this.size, length, rawLength });
    for (const b of pieces) this.append(b);
    return length;
  }

  private append(bytes: Buffer): void {
    this.hash.update(bytes);
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.size += bytes.length;
    if (this.pendingBytes >= BLOCK_BYTES) this.stagePending();
  }

  private stagePending(): void {
    if (this.pendingBytes === 0) return;
    const data = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const blockId = Buffer.from(`block-${String(this.blockIds.length).padStart(6, '0')}`).toString('base64');
    this.blockIds.push(blockId);
    const p = this.blobs
      .stageBlock(this.container, packBlobName(this.packId), blockId, data)
      .catch((e: unknown) => {
        this.failure ??= e;
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /** Resolves when few enough blocks are in flight: the pipeline's backpressure. */
  async waitForCapacity(): Promise<void> {
    while (this.inflight.size >= MAX_INFLIGHT_BLOCKS) await Promise.race(this.inflight);
    if (this.failure) throw this.failure;
  }

  /** Appends header and trailer, commits the blob in the Cool tier, and describes the pack. */
  async finish(): Promise<PackDescription> {
    this.append(packTail(this.packKey, this.packId, this.entries, this.sealedKey));
    this.stagePending();
    await Promise.all(this.inflight);
    if (this.failure) throw this.failure;
    await this.blobs.commitBlocks(this.container, packBlobName(this.packId), this.blockIds, { tier: 'Cool', ifNoneMatch: true, tags: PACK_TAGS });
    return { packId: this.packId, size: this.size, sha256: this.hash.digest(), sealedKey: this.sealedKey, entries: this.entries };
  }
}
