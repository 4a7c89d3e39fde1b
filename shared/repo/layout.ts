import { BackupError } from '../errors';

/**
 * Where a repository keeps things (docs/repository-format.md, "Layout"). One storage account may
 * hold several repositories, each under its own name.
 */
export interface RepositoryLayout {
  name: string;
  /** Pack blobs: written Cool, moved to Archive by the lifecycle policy. */
  packContainer: string;
  /** Hot blobs: pack indexes, catalog blobs, the chunk Bloom filter, locks. */
  metaContainer: string;
  configTable: string;
  chunkTable: string;
  packTable: string;
  snapshotTable: string;
  itemTable: string;
  /**
   * Short-lived restore state: sessions (the Key Vault-wrapped key of a running restore), plan
   * records and zip records. Rows are MACed but are not part of the backup: each is deleted when
   * its restore (or link) ends, expired ones are swept, and `verify` does not count them.
   */
  restoreTable: string;
  /** Restore plans (sealed) and restore zips (plaintext, deleted when their link expires). */
  restoreContainer: string;
}

export const DEFAULT_REPOSITORY_NAME = 'm365backup';

export function repositoryLayout(name: string): RepositoryLayout {
  if (!/^[a-z][a-z0-9]{2,39}$/.test(name))
    throw new BackupError('USAGE', `Repository name "${name}" is invalid: use 3-40 lowercase letters and digits, starting with a letter.`);
  return {
    name,
    packContainer: `${name}-packs`,
    metaContainer: `${name}-meta`,
    configTable: `${name}config`,
    chunkTable: `${name}chunks`,
    packTable: `${name}packs`,
    snapshotTable: `${name}snapshots`,
    itemTable: `${name}items`,
    restoreTable: `${name}restores`,
    restoreContainer: `${name}-restores`,
  };
}

/** Blob names reveal nothing: random pack IDs, fanned out by their first two hex digits. */
export const packBlobName = (packId: string) => `${packId.slice(0, 2)}/${packId}`;
export const packIndexBlobName = (packId: string) => `packindex/${packId.slice(0, 2)}/${packId}`;
export const catalogBlobName = (partition: string, seq: number) => `catalog/${partition}/${padSeq(seq)}`;
export const BLOOM_BLOB = 'index/bloom';
export const lockBlobName = (partition: string) => `locks/${partition}`;

/** Sequence numbers are zero-padded so row keys sort numerically. */
export const padSeq = (n: number) => String(n).padStart(10, '0');

/** "Valid until" of an item version that is still current. */
export const OPEN_END = 2_147_483_647;
