import {
  BlobSASPermissions,
  BlobServiceClient,
  ContainerClient,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  StorageRetryPolicyType,
  type BlockBlobClient,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { Readable } from 'node:stream';
import { BackupError } from '../errors';
import { STORAGE_RETRY, type StorageConnection } from './connection';
import { storageCall } from './errors';

export type AccessTier = 'Hot' | 'Cool' | 'Cold' | 'Archive';

export interface BlobInfo {
  name: string;
  size: number;
  etag: string;
  tier?: string;
  archiveStatus?: string;
}

export interface PutBlobOptions {
  /** Fail with ALREADY_EXISTS/PRECONDITION_FAILED when the blob exists. */
  ifNoneMatch?: boolean;
  /** Replace only this version (optimistic concurrency). */
  ifMatch?: string;
  tier?: AccessTier;
  /** Blob index tags (the lifecycle policy selects pack blobs by tag). */
  tags?: Record<string, string>;
  abortSignal?: AbortSignal;
}

export interface GetBlobOptions {
  offset?: number;
  count?: number;
  abortSignal?: AbortSignal;
}

/**
 * Named blobs in named containers. Knows no encryption, chunks or packs.
 * Every method states its failure codes: NOT_FOUND, ALREADY_EXISTS, PRECONDITION_FAILED,
 * BLOB_ARCHIVED, STORAGE_UNREACHABLE, STORAGE.
 */
export class BlobStore {
  private readonly service: BlobServiceClient;
  private readonly containers = new Map<string, ContainerClient>();

  constructor(private readonly connection: StorageConnection) {
    const options: StoragePipelineOptions = {
      retryOptions: {
        retryPolicyType: StorageRetryPolicyType.EXPONENTIAL,
        maxTries: STORAGE_RETRY.maxTries,
        retryDelayInMs: STORAGE_RETRY.retryDelayInMs,
        maxRetryDelayInMs: STORAGE_RETRY.maxRetryDelayInMs,
        tryTimeoutInMs: STORAGE_RETRY.tryTimeoutInMs,
      },
    };
    this.service =
      connection.kind === 'connectionString'
        ? BlobServiceClient.fromConnectionString(connection.connectionString, options)
        : new BlobServiceClient(connection.blobUrl, connection.credential, options);
  }

  private container(name: string): ContainerClient {
    let c = this.containers.get(name);
    if (!c) {
      c = this.service.getContainerClient(name);
      this.containers.set(name, c);
    }
    return c;
  }

  private block(container: string, name: string): BlockBlobClient {
    return this.container(container).getBlockBlobClient(name);
  }

  /** Creates the container if absent; succeeds if present. */
  async ensureContainer(container: string): Promise<void> {
    await storageCall(`create container ${container}`, () => this.container(container).createIfNotExists());
  }

  async containerExists(container: string): Promise<boolean> {
    return storageCall(`check container ${container}`, () => this.container(container).exists());
  }

  /** Deletes the container and everything in it; succeeds if absent. */
  async deleteContainer(container: string): Promise<void> {
    await storageCall(`delete container ${container}`, () => this.container(container).deleteIfExists());
  }

  /** Uploads a whole (small) blob in one request. Returns the new ETag. */
  async putBlob(container: string, name: string, data: Uint8Array, options: PutBlobOptions = {}): Promise<string> {
    const res = await storageCall(`write blob ${container}/${name}`, () =>
      this.block(container, name).upload(data, data.byteLength, {
        tier: options.tier,
        abortSignal: options.abortSignal,
        conditions: options.ifNoneMatch ? { ifNoneMatch: '*' } : options.ifMatch ? { ifMatch: options.ifMatch } : undefined,
      }),
    );
    return res.etag ?? '';
  }

  /**
   * Stages one uncommitted block; invisible to readers until commitBlocks. Several buffers are sent
   * as one block without being concatenated first (a stream factory, so a retry can resend them).
   */
  async stageBlock(container: string, name: string, blockId: string, data: Uint8Array | Uint8Array[], abortSignal?: AbortSignal): Promise<void> {
    const list = Array.isArray(data) ? data : [data];
    const length = list.reduce((n, b) => n + b.byteLength, 0);
    const body = list.length === 1 ? list[0]! : () => Readable.from(list, { objectMode: false });
    await storageCall(`stage block of ${container}/${name}`, () => this.block(container, name).stageBlock(blockId, body, length, { abortSignal }));
  }

  /** Atomically makes the staged blocks the blob's content. Returns the ETag. */
  async commitBlocks(container: string, name: string, blockIds: string[], options: PutBlobOptions = {}): Promise<string> {
    const res = await storageCall(`commit blob ${container}/${name}`, () =>
      this.block(container, name).commitBlockList(blockIds, {
        tier: options.tier,
        tags: options.tags,
        abortSignal: options.abortSignal,
        conditions: options.ifNoneMatch ? { ifNoneMatch: '*' } : undefined,
      }),
    );
    return res.etag ?? '';
  }

  /** Reads a blob, or the byte range [offset, offset+count). NOT_FOUND, BLOB_ARCHIVED. */
  async getBlob(container: string, name: string, options: GetBlobOptions = {}): Promise<Buffer> {
    return storageCall(`read blob ${container}/${name}`, async () => {
      const client = this.block(container, name);
      const offset = options.offset ?? 0;
      const res = await client.download(offset, options.count, { abortSignal: options.abortSignal });
      const body = res.readableStreamBody;
      if (!body) throw new Error('no response body');
      const parts: Buffer[] = [];
      for await (const part of body) parts.push(part as Buffer);
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    });
  }

  /** Blob properties, or undefined when the blob does not exist. */
  async stat(container: string, name: string, abortSignal?: AbortSignal): Promise<BlobInfo | undefined> {
    try {
      const p = await storageCall(`stat blob ${container}/${name}`, () => this.block(container, name).getProperties({ abortSignal }));
      return { name, size: p.contentLength ?? 0, etag: p.etag ?? '', tier: p.accessTier, archiveStatus: p.archiveStatus };
    } catch (e) {
      if ((e as { code?: string }).code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }

  /** All blobs under a prefix, page by page, as an async iterable. */
  async *list(container: string, prefix = ''): AsyncIterableIterator<BlobInfo> {
    const iter = this.container(container).listBlobsFlat({ prefix }).byPage({ maxPageSize: 5000 });
    while (true) {
      const page = await storageCall(`list blobs in ${container}`, () => iter.next());
      if (page.done) return;
      for (const b of page.value.segment.blobItems) {
        yield {
          name: b.name,
          size: b.properties.contentLength ?? 0,
          etag: b.properties.etag ?? '',
          tier: b.properties.accessTier,
          archiveStatus: b.properties.archiveStatus,
        };
      }
    }
  }

  /** Deletes a blob; returns false when it was already absent. */
  async deleteBlob(container: string, name: string): Promise<boolean> {
    const res = await storageCall(`delete blob ${container}/${name}`, () => this.block(container, name).deleteIfExists());
    return res.succeeded;
  }

  /**
   * A time-limited, read-only URL of one blob: signed with the account key (connection string) or
   * with a user delegation key (managed identity; shared-key access is off in Azure).
   */
  async readOnlyUrl(container: string, name: string, expiresOn: Date): Promise<string> {
    const blob = this.block(container, name);
    const startsOn = new Date(Date.now() - 5 * 60_000);
    const permissions = BlobSASPermissions.parse('r');
    if (this.connection.kind === 'connectionString') {
      const account = /AccountName=([^;]+)/i.exec(this.connection.connectionString)?.[1];
      const key = /AccountKey=([^;]+)/i.exec(this.connection.connectionString)?.[1];
      if (!account || !key) throw new BackupError('USAGE', 'The storage connection string has no account key to sign a download URL with.');
      const sas = generateBlobSASQueryParameters({ containerName: container, blobName: name, permissions, startsOn, expiresOn }, new StorageSharedKeyCredential(account, key));
      return `${blob.url}?${sas.toString()}`;
    }
    const delegation = await storageCall('get a user delegation key', () => this.service.getUserDelegationKey(startsOn, expiresOn));
    const account = new URL(this.connection.blobUrl).hostname.split('.')[0]!;
    const sas = generateBlobSASQueryParameters({ containerName: container, blobName: name, permissions, startsOn, expiresOn }, delegation, account);
    return `${blob.url}?${sas.toString()}`;
  }

  /** Moves a blob to another tier (rehydration from Archive when the target is online). */
  async setTier(container: string, name: string, tier: AccessTier, rehydratePriority?: 'High' | 'Standard'): Promise<void> {
    await storageCall(`set tier of ${container}/${name}`, () => this.block(container, name).setAccessTier(tier, { rehydratePriority }));
  }
}
