import { createHash } from 'node:crypto';
import { open } from '../crypto';
import { isBackupError } from '../errors';
import type { Row, RowOperation } from '../storage';
import { binaryReviver } from './catalog';
import { ChunkIndex, chunkRow, packRow } from './chunkIndex';
import { OPEN_END } from './layout';
import { decodePackIndex } from './packFormat';
import { forgottenSnapshots } from './forget';
import { deleteDeadItemRows } from './prune';
import { ensureStructure, type Repository } from './repository';
import { endMac, withMac } from './rowMac';

export interface RebuildResult {
  packs: number;
  chunks: number;
  snapshots: number;
  itemRows: number;
  damaged: string[];
  /** Catalog blobs of forgotten snapshots: their item versions replayed, their snapshot rows not. */
  forgotten: number;
  /** Item versions only forgotten snapshots had, dropped after the replay. */
  droppedItemRows: number;
}

interface CatalogBlob {
  snapshot: Row;
  keys: Row[];
  added: Row[];
  ended: string[];
}

/**
 * Rebuilds the Table index from the Hot blobs alone: pack and chunk rows from the pack-index blobs,
 * snapshots and item versions from the catalog blobs (replayed oldest first), then the Bloom filter.
 * Needs the key provider, not the password, and never reads a pack (no rehydration).
 */
export async function rebuildIndex(repo: Repository, onProgress?: (what: string, n: number) => void): Promise<RebuildResult> {
  const { blobs, tables, layout, keys } = repo;
  await ensureStructureWithRetry(repo);
  const result: RebuildResult = { packs: 0, chunks: 0, snapshots: 0, itemRows: 0, damaged: [], forgotten: 0, droppedItemRows: 0 };
  const forgotten = await forgottenSnapshots(repo);

  for await (const b of blobs.list(layout.metaContainer, { prefix: 'packindex/' })) {
    const packId = b.name.split('/').pop()!;
    try {
      const blob = await blobs.getBlob(layout.metaContainer, b.name);
      const d = decodePackIndex(keys.indexKey, packId, blob);
      await tables.upsert(layout.packTable, packRow(repo, d, createHash('sha256').update(blob).digest()));
      await tables.batch(layout.chunkTable, d.entries.map((e) => ({ kind: 'upsert' as const, row: chunkRow(repo, e.chunkId, { packId, ...e }) })));
      result.packs++;
      result.chunks += d.entries.length;
      onProgress?.('packs', result.packs);
    } catch (e) {
      if (!isBackupError(e)) throw e;
      result.damaged.push(`${b.name}: ${e.message}`);
    }
  }

  const catalogs: { partition: string; seq: number; name: string }[] = [];
  for await (const b of blobs.list(layout.metaContainer, { prefix: 'catalog/' })) {
    const [, partition, seq] = b.name.split('/');
    catalogs.push({ partition: partition!, seq: Number(seq), name: b.name });
  }
  catalogs.sort((a, b) => a.partition.localeCompare(b.partition) || a.seq - b.seq);
  for (const c of catalogs) {
    let body: CatalogBlob;
    try {
      const plain = open(keys.indexKey, await blobs.getBlob(layout.metaContainer, c.name), Buffer.from(`catalog/${c.partition}/${c.seq}`), `catalog blob ${c.name}`);
      body = JSON.parse(plain.toString('utf8'), binaryReviver) as CatalogBlob;
    } catch (e) {
      if (!isBackupError(e)) throw e;
      result.damaged.push(`${c.name}: ${e.message}`);
      continue;
    }
    const mac = (table: string, r: Row) => withMac(keys.macKey, table, r);
    for (const k of body.keys) await tables.upsert(layout.snapshotTable, mac(layout.snapshotTable, k));
    const ops: RowOperation[] = body.added.map((r) => ({ kind: 'upsert', row: mac(layout.itemTable, r.t === undefined ? r : { ...r, t: OPEN_END }) }));
    await tables.batch(layout.itemTable, ops, { concurrency: 1 });
    for (const key of body.ended) {
      const [pk, rk] = key.split('/') as [string, string];
      const row = await tables.get(layout.itemTable, pk, rk);
      if (!row) {
        result.damaged.push(`${c.name}: ended version ${key} is not in any earlier catalog blob`);
        continue;
      }
      const tm = endMac(keys.macKey, layout.itemTable, pk, rk, c.seq, row.mac as Uint8Array);
      await tables.batch(layout.itemTable, [{ kind: 'merge', row: { partitionKey: pk, rowKey: rk, t: c.seq, tm } }]);
    }
    // A forgotten snapshot's versions are replayed (later snapshots may still list them), its row is not.
    if (forgotten.has(`${c.partition}/${c.seq}`)) {
      result.forgotten++;
      result.itemRows += body.added.length;
      continue;
    }
    await tables.upsert(layout.snapshotTable, mac(layout.snapshotTable, body.snapshot));
    result.snapshots++;
    result.itemRows += body.added.length;
    onProgress?.('snapshots', result.snapshots);
  }

  if (result.forgotten) result.droppedItemRows = await deleteDeadItemRows(repo);
  const index = await ChunkIndex.rebuildBloom(repo);
  await index.save();
  return result;
}

/** A table deleted moments ago cannot be created again at once on Azure (409 TableBeingDeleted). */
async function ensureStructureWithRetry(repo: Repository): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await ensureStructure(repo.stores, repo.layout);
      return;
    } catch (e) {
      if (attempt >= 30 || !isBackupError(e, 'ALREADY_EXISTS')) throw e;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

