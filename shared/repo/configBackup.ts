import { randomBytes } from 'node:crypto';
import { isBackupError } from '../errors';
import type { BlobStore, Row } from '../storage';
import { binaryReplacer, binaryReviver } from './catalog';
import type { RepositoryLayout } from './layout';
import { extendBlobLock, lockNewBlob } from './packLocks';
import type { Repository } from './repository';

/**
 * Copies of the repository's configuration and key rows as blobs (docs/repository-format.md,
 * "Configuration backup"), so that a repository whose tables were all deleted (ransomware with the
 * app's rights) can be opened again and `rebuild-index` can bring the rest back from locked blobs.
 * `config/<time>-<random>.json` in the meta container, written once (never overwritten, so it can
 * be locked like catalogs): at init, after a password change, and once per process by a backup under
 * a lock policy when none exists yet. The rows keep their MACs: a copy is trusted only after the
 * master secret (through the key provider) verifies them, so a forged copy is refused.
 */
export const CONFIG_BACKUP_PREFIX = 'config/';

export interface ConfigBackup {
  config: Row;
  key: Row;
}

export async function writeConfigBackup(repo: Repository, rows: ConfigBackup): Promise<string> {
  const name = `${CONFIG_BACKUP_PREFIX}${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}.json`;
  const strip = (r: Row) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'etag' && k !== 'timestamp'));
  const body = Buffer.from(JSON.stringify({ config: strip(rows.config), key: strip(rows.key) }, binaryReplacer));
  await repo.blobs.putBlob(repo.layout.metaContainer, name, body, { ifNoneMatch: true, tier: 'Hot' });
  await lockNewBlob(repo, repo.layout.metaContainer, name);
  return name;
}

async function newestName(blobs: BlobStore, layout: RepositoryLayout): Promise<string | undefined> {
  let newest: string | undefined;
  try {
    for await (const b of blobs.list(layout.metaContainer, { prefix: CONFIG_BACKUP_PREFIX })) if (!newest || b.name > newest) newest = b.name;
  } catch (e) {
    if (isBackupError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
  return newest;
}

/** The newest configuration backup, or undefined when there is none (or the container is gone). */
export async function newestConfigBackup(blobs: BlobStore, layout: RepositoryLayout): Promise<ConfigBackup | undefined> {
  const newest = await newestName(blobs, layout);
  if (!newest) return undefined;
  return JSON.parse((await blobs.getBlob(layout.metaContainer, newest)).toString('utf8'), binaryReviver) as ConfigBackup;
}

/** Processes that already made sure a backup exists, per repository. */
const ensured = new WeakSet<Repository>();

/**
 * Writes a configuration backup if the repository has none yet (repositories from before backups
 * existed), and keeps the newest one locked at least to the current horizon, like a reused pack
 * (packLocks.ts). Prune's maintenance calls it every time.
 */
export async function keepConfigBackupLocked(repo: Repository, rows: () => Promise<ConfigBackup>, now = Date.now()): Promise<void> {
  const newest = await newestName(repo.blobs, repo.layout);
  if (!newest) await writeConfigBackup(repo, await rows());
  else await extendBlobLock(repo, repo.layout.metaContainer, newest, now);
  ensured.add(repo);
}

/** The same, once per process (a backup's content session under a lock policy). */
export async function ensureConfigBackup(repo: Repository, rows: () => Promise<ConfigBackup>): Promise<void> {
  if (!ensured.has(repo)) await keepConfigBackupLocked(repo, rows);
}
