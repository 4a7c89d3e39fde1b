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
import { STORAGE_RETRY, isDevelopmentConnection, type StorageConnection } from './connection';
import { storageCall } from './errors';

export interface AzureBlobStoreOptions {
  /**
   * Defaults: both true for an Azure account, both false for Azurite (it refuses reads of archived
   * blobs but rehydrates at once, and has no immutability). Immutability needs version-level WORM enabled on the
   * account or container: declare false when it is not.
   */
  capabilities?: Partial<BlobCapabilities>;
}

/** Reads at least this long are copied into one buffer as they arrive (smaller ones are joined at the end). */
const READ_INTO_MIN = 256 * 1024;

/** The blob contract over `@azure/storage-blob`; SDK errors are translated here. */
export class AzureBlobStore implements BlobStore {
  readonly capabilities: BlobCapabilities;
  private readonly service: BlobServiceClient;
  private readonly containers = new Map<string, ContainerClient>();

  constructor(
    private readonly connection: StorageConnection,
    options: AzureBlobStoreOptions = {},
  ) {
    const pipeline: StoragePipelineOptions = {
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
        ? BlobServiceClient.fromConnectionString(connection.connectionString, pipeline)
        : new BlobServiceClient(connection.blobUrl, connection.credential, pipeline);
    const real = !(connection.kind === 'connectionString' && isDevelopmentConnection(connection.connectionString));
    this.capabilities = { archive: real, immutability: real, ...options.capabilities };
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

  async ensureContainer(container: string, options: CallOptions = {}): Promise<void> {
    const { abortSignal } = options;
    await storageCall(`create container ${container}`, () => this.container(container).createIfNotExists({ abortSignal }), abortSignal);
  }

  async containerExists(container: string, options: CallOptions = {}): Promise<boolean> {
    const { abortSignal } = options;
    return storageCall(`check container ${container}`, () => this.container(container).exists({ abortSignal }), abortSignal);
  }

  async deleteContainer(container: string, options: CallOptions = {}): Promise<void> {
    const { abortSignal } = options;
    await storageCall(`delete container ${container}`, () => this.container(container).deleteIfExists({ abortSignal }), abortSignal);
  }

  async putBlob(container: string, name: string, data: Uint8Array, options: PutBlobOptions = {}): Promise<string> {
    const res = await storageCall(
      `write blob ${container}/${name}`,
      () =>
        this.block(container, name).upload(data, data.byteLength, {
          tier: options.tier,
          tags: options.tags,
          abortSignal: options.abortSignal,
          conditions: conditions(options),
        }),
      options.abortSignal,
    );
    return res.etag ?? '';
  }

  async stageBlock(container: string, name: string, blockId: string, data: Uint8Array | Uint8Array[], options: CallOptions = {}): Promise<void> {
    const { abortSignal } = options;
    const list = Array.isArray(data) ? data : [data];
    const length = list.reduce((n, b) => n + b.byteLength, 0);
    // A stream factory, so that an SDK retry can resend the buffers without concatenating them.
    const body = list.length === 1 ? list[0]! : () => Readable.from(list, { objectMode: false });
    await storageCall(`stage block of ${container}/${name}`, () => this.block(container, name).stageBlock(blockId, body, length, { abortSignal }), abortSignal);
  }

  async commitBlocks(container: string, name: string, blockIds: string[], options: PutBlobOptions = {}): Promise<string> {
    const res = await storageCall(
      `commit blob ${container}/${name}`,
      () =>
        this.block(container, name).commitBlockList(blockIds, {
          tier: options.tier,
          tags: options.tags,
          abortSignal: options.abortSignal,
          conditions: conditions(options),
        }),
      options.abortSignal,
    );
    return res.etag ?? '';
  }

  async getBlob(container: string, name: string, options: GetBlobOptions = {}): Promise<Buffer> {
    const { abortSignal } = options;
    return storageCall(
      `read blob ${container}/${name}`,
      async () => {
        const res = await this.block(container, name).download(options.offset ?? 0, options.count, { abortSignal });
        const body = res.readableStreamBody;
        if (!body) throw new Error('no response body');
        const expected = res.contentLength;
        if (expected === undefined || expected < READ_INTO_MIN) {
          const parts: Buffer[] = [];
          for await (const part of body) parts.push(part as Buffer);
          return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        }
        // A large read lands in one buffer as its socket pieces arrive, so each piece dies young
        // (instead of ~128 pieces of 64 KiB living until a concat, promoted by the scavenges between).
        const into = Buffer.allocUnsafeSlow(expected);
        let filled = 0;
        for await (const part of body) {
          const piece = part as Buffer;
          if (filled + piece.length > expected) throw new Error(`the body is longer than its Content-Length ${expected}`);
          piece.copy(into, filled);
          filled += piece.length;
        }
        return filled === expected ? into : into.subarray(0, filled);
      },
      abortSignal,
    );
  }

  async stat(container: string, name: string, options: CallOptions = {}): Promise<BlobInfo | undefined> {
    const { abortSignal } = options;
    try {
      const p = await storageCall(`stat blob ${container}/${name}`, () => this.block(container, name).getProperties({ abortSignal }), abortSignal);
      return {
        name,
        size: p.contentLength ?? 0,
        etag: p.etag ?? '',
        lastModified: p.lastModified,
        tier: p.accessTier as AccessTier | undefined,
        tierSince: p.accessTierChangedOn ?? p.createdOn,
        archiveStatus: p.archiveStatus,
        immutableUntil: p.immutabilityPolicyExpiresOn,
        immutabilityMode: immutabilityMode(p.immutabilityPolicyMode),
        legalHold: p.legalHold,
      };
    } catch (e) {
      if ((e as { code?: string }).code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }

  async *list(container: string, options: ListOptions = {}): AsyncIterableIterator<BlobInfo> {
    const { abortSignal } = options;
    const pageSize = Math.min(5000, Math.max(1, options.pageSize ?? 5000));
    const iter = this.container(container)
      .listBlobsFlat({ prefix: options.prefix ?? '', abortSignal, includeImmutabilityPolicy: this.capabilities.immutability, includeLegalHold: this.capabilities.immutability })
      .byPage({ maxPageSize: pageSize });
    while (true) {
      const page = await storageCall(`list blobs in ${container}`, () => iter.next(), abortSignal);
      if (page.done) return;
      for (const b of page.value.segment.blobItems) {
        yield {
          name: b.name,
          size: b.properties.contentLength ?? 0,
          // Listings return the ETag unquoted; stat and writes quote it: one form for ifMatch.
          etag: quoted(b.properties.etag ?? ''),
          lastModified: b.properties.lastModified,
          tier: b.properties.accessTier as AccessTier | undefined,
          tierSince: b.properties.accessTierChangedOn ?? b.properties.createdOn,
          archiveStatus: b.properties.archiveStatus,
          immutableUntil: b.properties.immutabilityPolicyExpiresOn,
          immutabilityMode: immutabilityMode(b.properties.immutabilityPolicyMode),
          legalHold: b.properties.legalHold,
        };
      }
    }
  }

  async deleteBlob(container: string, name: string, options: DeleteBlobOptions = {}): Promise<boolean> {
    const { abortSignal } = options;
    try {
      const res = await storageCall(
        `delete blob ${container}/${name}`,
        () => this.block(container, name).deleteIfExists({ abortSignal, conditions: options.ifMatch ? { ifMatch: options.ifMatch } : undefined }),
        abortSignal,
      );
      return res.succeeded;
    } catch (e) {
      // deleteIfExists swallows BlobNotFound only; an absent container is "already absent" too.
      if ((e as { code?: string }).code === 'NOT_FOUND') return false;
      throw e;
    }
  }

  async getTags(container: string, name: string, options: CallOptions = {}): Promise<Record<string, string>> {
    const { abortSignal } = options;
    const res = await storageCall(`read tags of ${container}/${name}`, () => this.block(container, name).getTags({ abortSignal }), abortSignal);
    return { ...res.tags };
  }

  async setTags(container: string, name: string, tags: Record<string, string>, options: CallOptions = {}): Promise<void> {
    const { abortSignal } = options;
    await storageCall(`write tags of ${container}/${name}`, () => this.block(container, name).setTags(tags, { abortSignal }), abortSignal);
  }

  async setTier(container: string, name: string, tier: AccessTier, options: SetTierOptions = {}): Promise<void> {
    const { abortSignal } = options;
    await storageCall(
      `set tier of ${container}/${name}`,
      () => this.block(container, name).setAccessTier(tier, { rehydratePriority: options.rehydratePriority, abortSignal }),
      abortSignal,
    );
  }

  async setImmutability(container: string, name: string, policy: ImmutabilityPolicy, options: CallOptions = {}): Promise<void> {
    const { abortSignal } = options;
    this.needImmutability('set an immutability policy');
    await storageCall(
      `set the immutability policy of ${container}/${name}`,
      () => this.block(container, name).setImmutabilityPolicy({ expiriesOn: policy.until, policyMode: policy.mode }, { abortSignal }),
      abortSignal,
    );
  }

  async removeImmutability(container: string, name: string, options: CallOptions = {}): Promise<void> {
    const { abortSignal } = options;
    this.needImmutability('remove an immutability policy');
    await storageCall(`remove the immutability policy of ${container}/${name}`, () => this.block(container, name).deleteImmutabilityPolicy({ abortSignal }), abortSignal);
  }

  async setLegalHold(container: string, name: string, hold: boolean, options: CallOptions = {}): Promise<void> {
    const { abortSignal } = options;
    this.needImmutability('set a legal hold');
    await storageCall(`set the legal hold of ${container}/${name}`, () => this.block(container, name).setLegalHold(hold, { abortSignal }), abortSignal);
  }

  /**
   * Signed with the account key (connection string) or with a user delegation key (managed
   * identity; shared-key access is off in Azure).
   */
  async readOnlyUrl(container: string, name: string, expiresOn: Date, options: CallOptions = {}): Promise<string> {
    const { abortSignal } = options;
    abortSignal?.throwIfAborted();
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
    const delegation = await storageCall('get a user delegation key', () => this.service.getUserDelegationKey(startsOn, expiresOn, { abortSignal }), abortSignal);
    const account = new URL(this.connection.blobUrl).hostname.split('.')[0]!;
    const sas = generateBlobSASQueryParameters({ containerName: container, blobName: name, permissions, startsOn, expiresOn }, delegation, account);
    return `${blob.url}?${sas.toString()}`;
  }

  private needImmutability(what: string): void {
    if (!this.capabilities.immutability)
      throw new BackupError('STORAGE', `Cannot ${what}: this storage account does not support immutability (Azurite has none; Azure needs version-level WORM enabled).`);
  }
}

const quoted = (etag: string) => (etag && !etag.startsWith('"') && !etag.startsWith('W/') ? `"${etag}"` : etag);

function conditions(options: PutBlobOptions) {
  return options.ifNoneMatch ? { ifNoneMatch: '*' } : options.ifMatch ? { ifMatch: options.ifMatch } : undefined;
}

function immutabilityMode(mode: string | undefined): ImmutabilityMode | undefined {
  if (!mode) return undefined;
  return mode.toLowerCase() === 'locked' ? 'Locked' : mode.toLowerCase() === 'unlocked' ? 'Unlocked' : undefined;
}
