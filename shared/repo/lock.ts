import { hostname } from 'node:os';
import { BackupError, isBackupError } from '../errors';
import { lockBlobName } from './layout';
import type { Repository } from './repository';

const TTL_MS = 5 * 60_000;
const RENEW_MS = 60_000;

interface LockBody {
  host: string;
  pid: number;
  expires: number;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One writer per partition at a time: a small Hot blob created with If-None-Match and renewed while
 * the run lasts. A lock left by a killed process is taken over at once on the same host (its pid is
 * gone) and after its expiry elsewhere, so an interrupted backup can always be resumed.
 */
export class PartitionLock {
  private etag = '';
  private timer?: NodeJS.Timeout;

  private constructor(
    private readonly repo: Repository,
    private readonly partition: string,
  ) {}

  static async acquire(repo: Repository, partition: string): Promise<PartitionLock> {
    const lock = new PartitionLock(repo, partition);
    await lock.take();
    lock.timer = setInterval(() => void lock.renew().catch(() => undefined), RENEW_MS);
    lock.timer.unref();
    return lock;
  }

  private body(): Buffer {
    const b: LockBody = { host: hostname(), pid: process.pid, expires: Date.now() + TTL_MS };
    return Buffer.from(JSON.stringify(b));
  }

  private async take(): Promise<void> {
    const { blobs, layout } = this.repo;
    const name = lockBlobName(this.partition);
    try {
      this.etag = await blobs.putBlob(layout.metaContainer, name, this.body(), { ifNoneMatch: true, tier: 'Hot' });
      return;
    } catch (e) {
      if (!isBackupError(e, 'ALREADY_EXISTS') && !isBackupError(e, 'PRECONDITION_FAILED')) throw e;
    }
    const stat = await blobs.stat(layout.metaContainer, name);
    let holder: LockBody | undefined;
    try {
      holder = JSON.parse((await blobs.getBlob(layout.metaContainer, name)).toString('utf8')) as LockBody;
    } catch {
      holder = undefined;
    }
    const stale = !holder || holder.expires < Date.now() || (holder.host === hostname() && !processAlive(holder.pid));
    if (!stale || !stat)
      throw new BackupError('LOCKED', `Another backup of this partition is running (host ${holder?.host}, pid ${holder?.pid}).`, {
        hint: 'Wait for it to finish; a lock left by a crashed run expires after 5 minutes.',
      });
    try {
      this.etag = await blobs.putBlob(layout.metaContainer, name, this.body(), { ifMatch: stat.etag, tier: 'Hot' });
    } catch (e) {
      if (isBackupError(e, 'PRECONDITION_FAILED')) throw new BackupError('LOCKED', 'Another backup of this partition took the lock just now.');
      throw e;
    }
  }

  private async renew(): Promise<void> {
    this.etag = await this.repo.blobs.putBlob(this.repo.layout.metaContainer, lockBlobName(this.partition), this.body(), { ifMatch: this.etag });
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.repo.blobs.deleteBlob(this.repo.layout.metaContainer, lockBlobName(this.partition));
  }
}
