import { hostname } from 'node:os';
import { BackupError, isBackupError } from '../errors';
import { lockBlobName } from './layout';
import type { Repository } from './repository';

const TTL_MS = 5 * 60_000;
const RENEW_MS = 60_000;
/** Rounds of "taken, then gone before we could read it" before giving up (a release racing our take). */
const TAKE_ATTEMPTS = 5;

/** The lock blob's body (docs/repository-format.md, "Locks"). */
export interface LeaseBody {
  /** Who holds it: a random id per process lock, the run id for a run-scoped lease. */
  owner: string;
  host: string;
  pid: number;
  /** Epoch milliseconds. */
  expires: number;
  acquired: string;
  /** Process-scoped: a lock whose process is gone on the same host is stale at once. */
  process: boolean;
}

export interface LeaseOptions {
  /** The holder's identity; taking a lease again with the same owner succeeds (a retried activity). */
  owner?: string;
  ttlMs?: number;
  /** Renew in the background every RENEW_MS while held (process-scoped locks). */
  autoRenew?: boolean;
  /** What it protects, for messages ("a backup of this partition", "a backup run of tenant contoso"). */
  what?: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lease still held: not expired, and (process-scoped) its process alive when it is on this host. */
export function isLive(h: LeaseBody, now = Date.now()): boolean {
  return h.expires >= now && !(h.process && h.host === hostname() && !processAlive(h.pid));
}

export const describeHolder = (h: LeaseBody) => `held by ${h.owner.startsWith('proc:') ? 'a process' : `run ${h.owner}`} on host ${h.host} (pid ${h.pid}) since ${h.acquired}, until ${new Date(h.expires).toISOString()}`;

function parseBody(data: Buffer): LeaseBody | undefined {
  try {
    const b = JSON.parse(data.toString('utf8')) as Partial<LeaseBody>;
    if (typeof b.host !== 'string' || typeof b.pid !== 'number' || typeof b.expires !== 'number') return undefined;
    return { owner: typeof b.owner === 'string' ? b.owner : 'proc:unknown', host: b.host, pid: b.pid, expires: b.expires, acquired: typeof b.acquired === 'string' ? b.acquired : 'unknown', process: b.process !== false };
  } catch {
    return undefined;
  }
}

/**
 * One holder at a time of a named lease: a small Hot blob created with If-None-Match and replaced
 * with If-Match. A stale lease (expired, or process-scoped and its process gone on this host) is
 * taken over; a live one is refused with LOCKED naming its holder. Used for per-partition writer
 * locks and for the tenant-run lease that keeps two runs of one tenant from splitting the work.
 */
export class Lease {
  private etag = '';
  /** When the lease was last written by us (taken or renewed). */
  private renewedAt = Date.now();
  private timer?: NodeJS.Timeout;
  private lost?: string;

  private constructor(
    private readonly repo: Repository,
    readonly name: string,
    private readonly body: Omit<LeaseBody, 'expires'>,
    private readonly ttlMs: number,
    private readonly what: string,
  ) {}

  static async acquire(repo: Repository, name: string, options: LeaseOptions = {}): Promise<Lease> {
    const owner = options.owner ?? `proc:${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
    const body = { owner, host: hostname(), pid: process.pid, acquired: new Date().toISOString(), process: options.owner === undefined };
    const lease = new Lease(repo, name, body, options.ttlMs ?? TTL_MS, options.what ?? 'this work');
    await lease.take();
    remember(repo, name, owner, Date.now());
    if (options.autoRenew ?? options.owner === undefined) {
      lease.timer = setInterval(() => void lease.renewInBackground(), RENEW_MS);
      lease.timer.unref();
    }
    return lease;
  }

  /**
   * Takes or renews a run-scoped lease (`options.owner` required) unless this process did so less
   * than a quarter of `ttlMs` ago: then it sends nothing (the lease still has three quarters of its
   * TTL left, more than a work unit lasts). Returns whether a request was made. LOCKED as `acquire`.
   */
  static async acquireIfDue(repo: Repository, name: string, options: LeaseOptions & { owner: string; ttlMs: number }): Promise<boolean> {
    const at = lastTaken.get(repo.blobs)?.get(takenKey(repo, name, options.owner));
    if (at !== undefined && Date.now() - at < options.ttlMs / 4) return false;
    await Lease.acquire(repo, name, { ...options, autoRenew: false });
    return true;
  }

  /** The current holder, or undefined when the lease is free. */
  static async holder(repo: Repository, name: string): Promise<LeaseBody | undefined> {
    const data = await repo.blobs.getBlob(repo.layout.metaContainer, lockBlobName(name)).catch((e: unknown) => {
      if (isBackupError(e, 'NOT_FOUND')) return undefined;
      throw e;
    });
    return data ? parseBody(data) : undefined;
  }

  /** The live holders of every lease whose name starts with `prefix` (the shared reader leases). */
  static async liveHolders(repo: Repository, prefix: string): Promise<{ name: string; holder: LeaseBody }[]> {
    const out: { name: string; holder: LeaseBody }[] = [];
    const base = lockBlobName('');
    for await (const b of repo.blobs.list(repo.layout.metaContainer, { prefix: lockBlobName(prefix) })) {
      const name = b.name.slice(base.length);
      const holder = await Lease.holder(repo, name); // undefined: released meanwhile
      if (holder && isLive(holder)) out.push({ name, holder });
    }
    return out;
  }

  /** Why the background renewal failed, if it did: the holder must stop and say so. */
  get lostReason(): string | undefined {
    return this.lost;
  }

  private encode(): Buffer {
    return Buffer.from(JSON.stringify({ ...this.body, expires: Date.now() + this.ttlMs } satisfies LeaseBody));
  }

  private async take(): Promise<void> {
    const { blobs, layout } = this.repo;
    const blob = lockBlobName(this.name);
    for (let attempt = 0; attempt < TAKE_ATTEMPTS; attempt++) {
      try {
        this.etag = await blobs.putBlob(layout.metaContainer, blob, this.encode(), { ifNoneMatch: true, tier: 'Hot' });
        return;
      } catch (e) {
        if (!isBackupError(e, 'ALREADY_EXISTS') && !isBackupError(e, 'PRECONDITION_FAILED')) throw e;
      }
      const stat = await blobs.stat(layout.metaContainer, blob);
      if (!stat) continue; // released between our create and our read: try to create again
      const data = await blobs.getBlob(layout.metaContainer, blob).catch((e: unknown) => {
        if (isBackupError(e, 'NOT_FOUND')) return undefined;
        throw e;
      });
      if (!data) continue;
      const holder = parseBody(data);
      const mine = holder?.owner === this.body.owner;
      const stale = !holder || !isLive(holder);
      // A sibling work unit of the same run renewed it a moment ago (or won the race to): it is ours
      // with more than half its TTL left, so there is nothing to write.
      if (mine && holder && holder.expires - Date.now() > this.ttlMs / 2) {
        this.etag = stat.etag;
        remember(this.repo, this.name, this.body.owner, Date.now());
        return;
      }
      if (!mine && !stale)
        throw new BackupError('LOCKED', `${capitalise(this.what)} is already running: the lock is ${describeHolder(holder)}.`, {
          hint: `Wait for it to finish; a lock left by a crashed run expires at ${new Date(holder.expires).toISOString()}.`,
        });
      try {
        this.etag = await blobs.putBlob(layout.metaContainer, blob, this.encode(), { ifMatch: stat.etag, tier: 'Hot' });
        return;
      } catch (e) {
        if (!isBackupError(e, 'PRECONDITION_FAILED') && !isBackupError(e, 'NOT_FOUND')) throw e;
        // Someone else replaced or released it at the same moment: look again.
      }
    }
    throw new BackupError('LOCKED', `${capitalise(this.what)} is being started by someone else at this moment.`, { hint: 'Try again in a minute.' });
  }

  /** Extends the lease; LOCKED when it was taken over meanwhile (it expired and someone else took it). */
  async renew(): Promise<void> {
    const { blobs, layout } = this.repo;
    const blob = lockBlobName(this.name);
    try {
      this.etag = await blobs.putBlob(layout.metaContainer, blob, this.encode(), { ifMatch: this.etag });
    } catch (e) {
      if (!isBackupError(e, 'PRECONDITION_FAILED') && !isBackupError(e, 'NOT_FOUND')) throw e;
      // A changed ETag is not proof of a takeover: our own earlier write may have landed with its
      // reply lost (the SDK's retry of it then fails its If-Match). The owner id is random per
      // holder, so a blob that still names us is ours: adopt its ETag and write again.
      const stat = isBackupError(e, 'NOT_FOUND') ? undefined : await blobs.stat(layout.metaContainer, blob);
      const holder = stat && parseBody(await blobs.getBlob(layout.metaContainer, blob).catch(() => Buffer.alloc(0)));
      if (!stat || holder?.owner !== this.body.owner) throw new BackupError('LOCKED', `The lock on ${this.what} was lost (it expired and was taken over, or removed).`);
      this.etag = await blobs.putBlob(layout.metaContainer, blob, this.encode(), { ifMatch: stat.etag });
    }
    this.renewedAt = Date.now();
    remember(this.repo, this.name, this.body.owner, this.renewedAt);
  }

  /**
   * The background renewal: a takeover (LOCKED) loses the lease at once; any other failure (storage
   * unreachable for a moment, a slow machine) is retried at the next interval as long as the lease
   * cannot have expired before it, so a transient fault never aborts a long backup.
   */
  private async renewInBackground(): Promise<void> {
    try {
      await this.renew();
    } catch (e) {
      const message = String((e as Error)?.message ?? e);
      if (isBackupError(e, 'LOCKED') || Date.now() + RENEW_MS >= this.renewedAt + this.ttlMs) this.lost = message;
    }
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Lease.release(this.repo, this.name, this.body.owner);
  }

  /** Releases the lease if `owner` still holds it (a run-scoped lease is released by the run's last step). */
  static async release(repo: Repository, name: string, owner: string): Promise<void> {
    remember(repo, name, owner, undefined);
    const blob = lockBlobName(name);
    const stat = await repo.blobs.stat(repo.layout.metaContainer, blob);
    if (!stat) return;
    const holder = parseBody(await repo.blobs.getBlob(repo.layout.metaContainer, blob).catch(() => Buffer.alloc(0)));
    if (holder && holder.owner !== owner) return;
    await repo.blobs.deleteBlob(repo.layout.metaContainer, blob);
  }
}

/**
 * When this process last took or renewed each lease (per stores object, repository and owner), so a
 * run-scoped lease is renewed only when enough of its TTL has passed instead of at every work unit.
 */
const lastTaken = new WeakMap<object, Map<string, number>>();
const takenKey = (repo: Repository, name: string, owner: string) => `${repo.layout.name}\0${name}\0${owner}`;
function remember(repo: Repository, name: string, owner: string, at: number | undefined): void {
  let m = lastTaken.get(repo.blobs);
  if (!m) lastTaken.set(repo.blobs, (m = new Map()));
  if (at === undefined) m.delete(takenKey(repo, name, owner));
  else m.set(takenKey(repo, name, owner), at);
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** One writer per partition at a time (a process-scoped lease renewed while the run lasts). */
export const PartitionLock = {
  acquire: (repo: Repository, partition: string): Promise<Lease> => Lease.acquire(repo, partition, { what: 'a backup of this partition' }),
};

/**
 * The tenant-run lease: one backup run of a tenant repository at a time, so a second run waits or
 * is refused cleanly instead of both ending "partial". Run-scoped (owner = run id) in the Function
 * App, where it outlives any one worker process; process-scoped in the CLI.
 */
export const TENANT_RUN_LEASE = 'tenant-run';

/** One prune of a repository at a time; readers (readers.ts) refuse to start while it is held. */
export const PRUNE_LEASE = 'prune';
