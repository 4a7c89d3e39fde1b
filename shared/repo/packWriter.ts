import { randomBytes } from 'node:crypto';
import { sealToPublicKey } from '../crypto';
import type { BlobStore } from '../storage';
import { packBlobName } from './layout';
import { packTail, type PackDescription, type PackEntry } from './packFormat';

/** Runs an upload when the caller's concurrency budget allows (ContentWriter shares one among its packs). */
export type UploadScheduler = (upload: () => Promise<void>) => Promise<void>;

/**
 * One pack blob being written with stageBlock/commitBlockList: its key, its entry table and its
 * blocks. The bytes come ready-made (a chunk worker seals chunks into blocks and hashes the stream,
 * see workerProtocol.ts); this class names and stages the blocks in order and commits them. Nothing
 * is visible until finish() commits, so an interrupted pack is never read.
 */
/** The blob index tag of pack blobs: infra's lifecycle rule moves blobs with it to Archive (pack indexes stay Hot). */
export const PACK_TAGS = { m365backup: 'pack' };

export class PackWriter {
  readonly packId = randomBytes(16).toString('hex');
  readonly packKey = randomBytes(32);
  readonly sealedKey: Buffer;
  private readonly entries: PackEntry[] = [];
  private readonly blockIds: string[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private failure: unknown;
  /** bytes of the pack stream described so far (entries, then the tail) */
  size = 0;

  constructor(
    private readonly blobs: BlobStore,
    private readonly container: string,
    publicKey: Buffer,
    private readonly schedule: UploadScheduler = (upload) => upload(),
  ) {
    this.sealedKey = sealToPublicKey(publicKey, this.packKey, `pack-key:${this.packId}`);
  }

  get chunkCount(): number {
    return this.entries.length;
  }

  /** Records the next sealed chunk of the pack stream (its bytes arrive through stageBlock). */
  addEntry(chunkId: Buffer, length: number, rawLength: number): void {
    this.entries.push({ chunkId, offset: this.size, length, rawLength });
    this.size += length;
  }

  /** The bytes that end the pack stream (header, sealed key, trailer); call once, after the last entry. */
  tail(): Buffer {
    const t = packTail(this.packKey, this.packId, this.entries, this.sealedKey);
    this.size += t.length;
    return t;
  }

  /** The same tail, made elsewhere (a re-sealing worker) from this pack's key, ID, sealed key and entries: counted, not remade. */
  adoptTail(tail: Buffer): void {
    this.size += tail.length;
  }

  /** Uploads the next block of the pack stream (one buffer, or pieces sent in order without a joining copy); `release` runs once its bytes are no longer needed. */
  stageBlock(data: Buffer | Buffer[], release: () => void): void {
    const blockId = Buffer.from(`block-${String(this.blockIds.length).padStart(6, '0')}`).toString('base64');
    this.blockIds.push(blockId);
    const p = this.schedule(() => this.blobs.stageBlock(this.container, packBlobName(this.packId), blockId, data))
      .catch((e: unknown) => {
        this.failure ??= e;
      })
      .finally(() => {
        this.inflight.delete(p);
        release();
      });
    this.inflight.add(p);
  }

  /** Once every block is staged: commits the blob in the Cool tier and describes the pack. */
  async finish(sha256: Buffer): Promise<PackDescription> {
    await Promise.all(this.inflight);
    if (this.failure) throw this.failure;
    await this.blobs.commitBlocks(this.container, packBlobName(this.packId), this.blockIds, { tier: 'Cool', ifNoneMatch: true, tags: PACK_TAGS });
    return { packId: this.packId, size: this.size, sha256, sealedKey: this.sealedKey, entries: this.entries };
  }
}
