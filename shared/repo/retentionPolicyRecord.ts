import { open, seal } from '../crypto';
import { BackupError, isBackupError } from '../errors';
import type { Repository } from './repository';
import { macValid, withMac } from './rowMac';

/**
 * The repository's retention policy document (docs/repository-format.md, "Retention policy"): one row
 * of the config table, PartitionKey "repository", RowKey "retention-policy", `body` = the policy JSON
 * sealed with the index key (AAD "retention-policy": it names users, so it is not in the clear, and
 * unattended prune runs read it without the password), MACed like every index row. The document's
 * shape is shared/retention's; this layer stores it opaquely. Absent: keep everything.
 */
const PK = 'repository';
const RK = 'retention-policy';
const AAD = Buffer.from('retention-policy');

export interface StoredPolicyDocument {
  document: unknown;
  /** For a conditional update: two concurrent `policy set` cannot both win. */
  etag: string;
}

export async function readPolicyDocument(repo: Repository): Promise<StoredPolicyDocument | undefined> {
  const row = await repo.tables.get(repo.layout.configTable, PK, RK);
  if (!row) return undefined;
  if (!macValid(repo.keys.macKey, repo.layout.configTable, row) || !(row.body instanceof Uint8Array))
    throw new BackupError('INTEGRITY', `The retention policy of repository "${repo.layout.name}" was altered or is corrupted.`, {
      hint: 'Set the policy again (tenant policy set); until then prune refuses to run.',
    });
  const plain = open(repo.keys.indexKey, Buffer.from(row.body), AAD, 'the retention policy');
  return { document: JSON.parse(plain.toString('utf8')) as unknown, etag: row.etag };
}

/** Writes the document; with `etag` only if the stored one is still that version (else PRECONDITION_FAILED). */
export async function writePolicyDocument(repo: Repository, document: unknown, etag: string | undefined, now = new Date()): Promise<void> {
  const row = withMac(repo.keys.macKey, repo.layout.configTable, {
    partitionKey: PK,
    rowKey: RK,
    body: seal(repo.keys.indexKey, Buffer.from(JSON.stringify(document)), AAD),
    updated: now.toISOString(),
  });
  try {
    if (etag === undefined) await repo.tables.create(repo.layout.configTable, row);
    else await repo.tables.update(repo.layout.configTable, row, etag);
  } catch (e) {
    if (isBackupError(e, 'ALREADY_EXISTS') || isBackupError(e, 'PRECONDITION_FAILED') || isBackupError(e, 'NOT_FOUND'))
      throw new BackupError('PRECONDITION_FAILED', 'The retention policy was changed concurrently by someone else; nothing was changed here. Run the command again.');
    throw e;
  }
}
