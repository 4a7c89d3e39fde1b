import { isBackupError } from '../errors';
import type { BlobStore } from './blobStore';

/** Milliseconds since the epoch; emulators take one so tests can move time without waiting. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

export const DAY_MS = 86_400_000;

/**
 * Small JSON documents kept in a container of the inner store, so that an emulator's state survives
 * restarts and is shared by every process on the same account (the local Functions host and the
 * test process). Keys are `<kind>/<container>/<blob name>`: container names have no "/", so a key
 * names one blob. Updates are conditional (ETag) and retried, so concurrent writers do not lose
 * each other's changes.
 */
export class EmulatorState<T> {
  private ready?: Promise<void>;

  constructor(
    private readonly inner: BlobStore,
    readonly container: string,
    private readonly kind: string,
  ) {}

  key(container: string, name: string): string {
    return `${this.kind}/${container}/${name}`;
  }

  private ensure(): Promise<void> {
    this.ready ??= this.inner.ensureContainer(this.container).catch((e) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  async read(key: string): Promise<{ value: T; etag: string } | undefined> {
    await this.ensure();
    let body: Buffer;
    const info = await this.inner.stat(this.container, key);
    if (!info) return undefined;
    try {
      body = await this.inner.getBlob(this.container, key);
    } catch (e) {
      if (isBackupError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
    return { value: JSON.parse(body.toString('utf8')) as T, etag: info.etag };
  }

  /** One request (reads are on every blob read of the wrapper; only updates need the ETag). */
  async get(container: string, name: string): Promise<T | undefined> {
    await this.ensure();
    try {
      return JSON.parse((await this.inner.getBlob(this.container, this.key(container, name))).toString('utf8')) as T;
    } catch (e) {
      if (isBackupError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  }

  /** Read-modify-write; `change` returns the new value, or undefined to delete the document. */
  async update(container: string, name: string, change: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    const key = this.key(container, name);
    for (let attempt = 0; ; attempt++) {
      const current = await this.read(key);
      const next = change(current?.value);
      try {
        if (next === undefined) {
          if (current) await this.inner.deleteBlob(this.container, key, { ifMatch: current.etag });
        } else {
          const body = Buffer.from(JSON.stringify(next));
          await this.inner.putBlob(this.container, key, body, current ? { ifMatch: current.etag } : { ifNoneMatch: true });
        }
        return next;
      } catch (e) {
        const raced = isBackupError(e, 'PRECONDITION_FAILED') || isBackupError(e, 'ALREADY_EXISTS');
        if (!raced || attempt >= 20) throw e;
      }
    }
  }

  async remove(container: string, name: string): Promise<void> {
    await this.ensure();
    await this.inner.deleteBlob(this.container, this.key(container, name));
  }

  /** Blob names (of `container`) under `prefix` that have a document. */
  async names(container: string, prefix = ''): Promise<string[]> {
    await this.ensure();
    const base = this.key(container, '');
    const out: string[] = [];
    for await (const b of this.inner.list(this.container, { prefix: base + prefix })) out.push(b.name.slice(base.length));
    return out;
  }

  /** Appends a document under `<kind>/<key>` that is never updated (a ledger entry). */
  async append(key: string, value: unknown): Promise<void> {
    await this.ensure();
    await this.inner.putBlob(this.container, `${this.kind}/${key}`, Buffer.from(JSON.stringify(value)));
  }

  /** Every appended document, in key order. */
  async entries<E>(): Promise<E[]> {
    await this.ensure();
    const out: E[] = [];
    for await (const b of this.inner.list(this.container, { prefix: `${this.kind}/` })) out.push(JSON.parse((await this.inner.getBlob(this.container, b.name)).toString('utf8')) as E);
    return out;
  }
}
