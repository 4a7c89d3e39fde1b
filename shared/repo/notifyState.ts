import { open, seal } from '../crypto';
import { BackupError, isBackupError } from '../errors';
import type { Repository } from './repository';

/**
 * What run notifications keep in a tenant's repository (meta container, `notify/`): the webhook
 * URL, sealed with the index key (a Teams or Slack incoming-webhook URL is itself a credential:
 * whoever has it can post), and one empty marker blob per notification sent, created only if
 * absent, so a notification is sent once even when two instances of the timer race.
 */
const CONFIG = 'notify/webhook';
const sentName = (key: string) => `notify/sent/${key}`;

export async function readWebhookUrl(repo: Repository): Promise<string | undefined> {
  let sealed: Buffer;
  try {
    sealed = await repo.blobs.getBlob(repo.layout.metaContainer, CONFIG);
  } catch (e) {
    if (isBackupError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
  return open(repo.keys.indexKey, sealed, Buffer.from(CONFIG), 'the notification webhook').toString('utf8');
}

export async function writeWebhookUrl(repo: Repository, url: string | undefined): Promise<void> {
  if (url === undefined) {
    await repo.blobs.deleteBlob(repo.layout.metaContainer, CONFIG);
    return;
  }
  await repo.blobs.putBlob(repo.layout.metaContainer, CONFIG, seal(repo.keys.indexKey, Buffer.from(url, 'utf8'), Buffer.from(CONFIG)), { tier: 'Hot' });
}

/** Claims a notification (by run id, or "missed-<date>"): true the first time only. */
export async function claimNotification(repo: Repository, key: string): Promise<boolean> {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,150}$/.test(key)) throw new BackupError('USAGE', `"${key.slice(0, 40)}" is not a notification key.`);
  try {
    await repo.blobs.putBlob(repo.layout.metaContainer, sentName(key), Buffer.alloc(0), { ifNoneMatch: true, tier: 'Hot' });
    return true;
  } catch (e) {
    if (isBackupError(e, 'ALREADY_EXISTS') || isBackupError(e, 'PRECONDITION_FAILED')) return false;
    throw e;
  }
}

/** Gives a claim back (the post failed): the next timer run tries again. */
export async function releaseNotification(repo: Repository, key: string): Promise<void> {
  await repo.blobs.deleteBlob(repo.layout.metaContainer, sentName(key));
}
