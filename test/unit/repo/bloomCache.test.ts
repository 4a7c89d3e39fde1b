import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Repository } from '../../../shared/repo';
import { COMPACT_AT, FOLD_SHARE, SharedBloom } from '../../../shared/repo/bloomCache';
import { BLOOM_DELTA_PREFIX } from '../../../shared/repo/bloomDelta';
import { BLOOM_BLOB } from '../../../shared/repo/layout';
import { startTestRepository, type TestRepository } from '../../support/repository';

const ids = (n: number) => Array.from({ length: n }, () => randomBytes(32));

describe('Bloom compaction (shared/repo/bloomCache.ts): merges small deltas, folds into the base only when they weigh', () => {
  let setup: TestRepository | undefined;
  let repo: Repository;

  before(async () => {
    setup = await startTestRepository({ name: 'bloomcache', password: 'bloom cache test' });
    repo = setup.repo;
  });
  after(async () => {
    await setup?.stop();
  });

  const container = () => repo.layout.metaContainer;
  const deltas = async () => {
    const out: { name: string; size: number }[] = [];
    for await (const b of repo.blobs.list(container(), { prefix: BLOOM_DELTA_PREFIX })) out.push({ name: b.name, size: b.size });
    return out;
  };
  const base = async () => (await repo.blobs.stat(container(), BLOOM_BLOB))!;
  /** A process that has seen none of it: everything saved must be in what it loads. */
  const freshReaderHolds = async (saved: Buffer[]) => {
    const reader = new SharedBloom(repo);
    await reader.refresh();
    const missing = saved.filter((id) => !reader.mightContain(id)).length;
    const strangers = ids(2000).filter((id) => reader.mightContain(id)).length;
    assert.equal(missing, 0, 'every saved ID is in the filter a new process loads');
    assert.ok(strangers < 100, `the filter is a filter (${strangers} of 2000 random IDs hit)`);
  };

  test('128 small saves are merged into one delta (the base untouched); saves that weigh a quarter of the base are folded into it', async () => {
    const writer = new SharedBloom(repo);
    await writer.refresh();
    const before = await base();
    const saved: Buffer[] = [];
    for (let i = 0; i < COMPACT_AT; i++) {
      const batch = ids(5);
      saved.push(...batch);
      await writer.saveDelta(batch);
    }
    const merged = await deltas();
    assert.equal(merged.length, 1, 'the 128 deltas became one');
    assert.equal(merged[0]!.size, 12 + saved.length * 32 + 32, 'holding every ID once');
    assert.equal((await base()).etag, before.etag, 'the base was not rewritten');
    await freshReaderHolds(saved);

    // Heavy saves: once the deltas hold a quarter of the base's bytes, the next compaction folds.
    const perSave = Math.ceil(before.size / FOLD_SHARE / 32 / (COMPACT_AT - 1)) + 1;
    for (let i = 0; i < COMPACT_AT - 1; i++) {
      const batch = ids(perSave);
      saved.push(...batch);
      await writer.saveDelta(batch);
    }
    assert.deepEqual(await deltas(), [], 'every delta was folded and deleted');
    assert.notEqual((await base()).etag, before.etag, 'into a new base');
    await freshReaderHolds(saved);
    for (const id of saved) assert.ok(writer.mightContain(id));
  });

  test('two processes compacting the same deltas at once lose no ID; a reader in the middle of it neither', async () => {
    const saved: Buffer[] = [];
    const writer = new SharedBloom(repo);
    await writer.refresh();
    const reader = new SharedBloom(repo);
    await reader.refresh();
    for (let i = 0; i < COMPACT_AT - 1; i++) {
      const batch = ids(3);
      saved.push(...batch);
      await writer.saveDelta(batch);
    }
    const a = new SharedBloom(repo);
    const b = new SharedBloom(repo);
    await Promise.all([a.refresh(), b.refresh()]);
    await Promise.all([a.compact(), b.compact(), reader.refresh()]);
    assert.ok((await deltas()).length <= 2, 'merged (twice at most)');
    for (const id of saved) assert.ok(reader.mightContain(id), 'the reader refreshed across the merge');
    await freshReaderHolds(saved);
  });
});
