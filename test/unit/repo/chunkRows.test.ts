import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestStorage } from '../../support/azurite';
import { startTestRepository, type TestRepository } from '../../support/repository';
import { ContentSession, chunkPartition, type ContentResult, type Repository } from '../../../shared/repo';
import type { RowOperation, TableStore } from '../../../shared/storage';
import { partitionOf } from '../../../shared/storage';
import { SeededRandom } from '../../../shared/local';

/**
 * Chunk rows of several committed packs share their partitions' batches (ContentWriter.indexRows),
 * and a source's result still arrives only once every chunk it lists has its row (format rule 8.3).
 */
describe('chunk rows: written together, before any result that needs them', () => {
  let setup: TestRepository | undefined;
  let storage: TestStorage;
  let repo: Repository;
  /** Entity-group transactions sent to the chunk table: one per partition per batch call. */
  let chunkTransactions = 0;

  before(async () => {
    const counted = (inner: TableStore) => new Proxy(inner, {
      get(target, key) {
        if (key === 'batch')
          return (table: string, ops: RowOperation[], o?: unknown) => {
            if (table === repo?.layout.chunkTable) chunkTransactions += new Set(ops.map(partitionOf)).size;
            return inner.batch(table, ops, o as never);
          };
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as TableStore;
    setup = await startTestRepository({
      name: 'chunkrows',
      password: 'pw',
      chunker: { minBytes: 16 * 1024, avgBytes: 64 * 1024, maxBytes: 256 * 1024 },
      packTargetBytes: 512 * 1024,
      stores: (s) => ({ blobs: s.blobs, tables: counted(s.tables) }),
    });
    ({ storage, repo } = setup);
  });
  after(async () => {
    await setup?.stop();
  });

  /** Chunk IDs of a result that have no chunk row yet. */
  const missingRows = async (r: ContentResult) => {
    const missing: string[] = [];
    for (let i = 0; i < r.chunkIds.length; i += 32) {
      const hex = r.chunkIds.subarray(i, i + 32).toString('hex');
      if (!(await storage.tables.get(repo.layout.chunkTable, chunkPartition(hex), hex))) missing.push(hex);
    }
    return missing;
  };

  test('one large source across many packs: its packs share each partition batch, rows exist when it is delivered', async () => {
    const data = new SeededRandom(7).bytes(6 * 1024 * 1024);
    // Small windows, so packs roll over inside the source (a pack takes whole windows).
    const session = await ContentSession.open(repo, { workers: 1, windowBytes: 128 * 1024 });
    chunkTransactions = 0;
    const delivered = new Promise<{ result: ContentResult; missing: string[] }>((resolve) =>
      session.writer.add([{ data }], (_, result) => void missingRows(result).then((missing) => resolve({ result, missing }))),
    );
    await session.finish();
    const { result, missing } = await delivered;
    assert.equal(result.error, undefined);
    assert.equal(result.size, data.length);
    assert.deepEqual(missing, [], 'every chunk has its row when the result is delivered');
    const packs = session.stats.packs;
    assert.ok(packs >= 8, `the source spans many packs (${packs})`);
    // Written per pack, its ~10 chunks would take a transaction per partition they fall in (~7 per
    // pack); held back until the source ends or 8 packs wait, one per partition per 8 packs.
    assert.ok(chunkTransactions <= 16 * Math.ceil(packs / 8), `${chunkTransactions} chunk-row transactions for ${packs} packs`);
  });

  test('small sources delivered one by one while the session stays open (sealOpenPacks): none waits for company', async () => {
    const rnd = new SeededRandom(8);
    const session = await ContentSession.open(repo, { workers: 1 });
    try {
      for (let i = 0; i < 5; i++) {
        const data = rnd.bytes(40_000 + i);
        let result: ContentResult | undefined;
        session.writer.add([{ data }], (_, r) => (result = r));
        // As a service backup waits for its items: part-filled packs sealed every 100 ms, no flush.
        const deadline = Date.now() + 30_000;
        while (!result && Date.now() < deadline) {
          session.writer.sealOpenPacks();
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(result, `source ${i} was delivered without a flush`);
        assert.equal(result.error, undefined);
        assert.deepEqual(await missingRows(result), [], `source ${i}: every chunk has its row`);
      }
    } finally {
      await session.finish();
    }
  });
});
