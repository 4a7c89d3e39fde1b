import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isBackupError, type ErrorCode } from '../../shared/errors';
import type { BlobStore, TableStore } from '../../shared/storage';

/**
 * The storage contract as executable rules (shared/storage/blobStore.ts, tableStore.ts): every
 * implementation and wrapper runs these cases. Capability cases (Archive, WORM) run only where the
 * store declares the capability, and the time-dependent ones only where the test can move the
 * store's clock (`advance`).
 */
export interface BlobSubject {
  blobs: BlobStore;
  /** Moves the store's clock forward (emulators); absent for real time. */
  advance?: (ms: number) => void;
  /** The store's current time (ms), when it has its own clock. */
  now?: () => number;
}

export interface TableSubject {
  tables: TableStore;
}

const DAY = 86_400_000;
let counter = 0;
/** A fresh container or table name per case, so that wrappers sharing one Azurite do not collide. */
const fresh = (kind: 'c' | 't') => (kind === 'c' ? `k${process.pid}-${Date.now().toString(36)}-${counter++}` : `k${process.pid}x${Date.now().toString(36)}x${counter++}`);

export async function rejectsWith(p: Promise<unknown>, ...codes: ErrorCode[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(codes.some((c) => isBackupError(e, c)), `expected ${codes.join(' or ')}, got ${(e as Error)?.name}: ${(e as { code?: string })?.code} ${(e as Error)?.message}`);
    return true;
  });
}

async function rejectsAborted(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.equal((e as Error).name, 'AbortError', `expected an AbortError, got ${String(e)}`);
    assert.ok(!isBackupError(e), 'an abort is not a storage failure');
    return true;
  });
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const blockId = (i: number) => Buffer.from(`block-${String(i).padStart(6, '0')}`).toString('base64');
const text = (b: Buffer) => b.toString('utf8');
const aborted = () => {
  const c = new AbortController();
  c.abort();
  return c.signal;
};

export function describeBlobContract(label: string, setup: () => Promise<BlobSubject>): void {
  describe(`blob contract: ${label}`, () => {
    let s: BlobSubject;
    let blobs: BlobStore;
    const now = () => (s.now ?? Date.now)();
    const container = async () => {
      const c = fresh('c');
      await blobs.ensureContainer(c);
      return c;
    };

    before(async () => {
      s = await setup();
      blobs = s.blobs;
    });

    test('capabilities are declared', () => {
      assert.equal(typeof blobs.capabilities.archive, 'boolean');
      assert.equal(typeof blobs.capabilities.immutability, 'boolean');
    });

    test('containers: ensure and delete are idempotent, existence is reported', async () => {
      const c = fresh('c');
      assert.equal(await blobs.containerExists(c), false);
      await blobs.ensureContainer(c);
      await blobs.ensureContainer(c);
      assert.equal(await blobs.containerExists(c), true);
      await blobs.putBlob(c, 'x', Buffer.from('x'));
      await blobs.deleteContainer(c);
      await blobs.deleteContainer(c);
      assert.equal(await blobs.containerExists(c), false);
    });

    test('put and get: content round-trips, an overwrite changes the ETag, absent is NOT_FOUND', async () => {
      const c = await container();
      const data = randomBytes(70_000);
      const e1 = await blobs.putBlob(c, 'dir/a.bin', data);
      assert.ok(e1);
      assert.deepEqual(await blobs.getBlob(c, 'dir/a.bin'), data);
      const e2 = await blobs.putBlob(c, 'dir/a.bin', Buffer.from('second'));
      assert.notEqual(e2, e1);
      assert.equal(text(await blobs.getBlob(c, 'dir/a.bin')), 'second');
      await rejectsWith(blobs.getBlob(c, 'nope'), 'NOT_FOUND');
      await rejectsWith(blobs.putBlob(fresh('c'), 'x', Buffer.from('x')), 'NOT_FOUND');
      await rejectsWith(blobs.getBlob(fresh('c'), 'x'), 'NOT_FOUND');
    });

    test('range reads: [offset, offset+count), to the end, clipped at the end', async () => {
      const c = await container();
      const data = Buffer.from('0123456789abcdef');
      await blobs.putBlob(c, 'r', data);
      assert.equal(text(await blobs.getBlob(c, 'r', { offset: 3, count: 4 })), '3456');
      assert.equal(text(await blobs.getBlob(c, 'r', { offset: 10 })), 'abcdef');
      assert.equal(text(await blobs.getBlob(c, 'r', { offset: 14, count: 10 })), 'ef');
      assert.equal(text(await blobs.getBlob(c, 'r', { offset: 0, count: 1 })), '0');
    });

    test('large reads (several MiB, read into one buffer as they arrive): whole, ranged, clipped at the end', async () => {
      const c = await container();
      const data = randomBytes(3 * 1024 * 1024 + 123);
      await blobs.putBlob(c, 'big', data);
      assert.ok((await blobs.getBlob(c, 'big')).equals(data));
      assert.ok((await blobs.getBlob(c, 'big', { offset: 1000, count: 2 * 1024 * 1024 })).equals(data.subarray(1000, 1000 + 2 * 1024 * 1024)));
      assert.ok((await blobs.getBlob(c, 'big', { offset: 1024 * 1024, count: 4 * 1024 * 1024 })).equals(data.subarray(1024 * 1024)));
      const last = await blobs.getBlob(c, 'big', { offset: data.length - 300 * 1024 });
      assert.ok(last.equals(data.subarray(data.length - 300 * 1024)));
    });

    test('stat: size, ETag, last write; undefined for an absent blob or container', async () => {
      const c = await container();
      const etag = await blobs.putBlob(c, 's', Buffer.from('12345'));
      const info = await blobs.stat(c, 's');
      assert.ok(info);
      assert.equal(info.name, 's');
      assert.equal(info.size, 5);
      assert.equal(info.etag, etag);
      assert.ok(info.lastModified instanceof Date);
      assert.equal(await blobs.stat(c, 'absent'), undefined);
      assert.equal(await blobs.stat(fresh('c'), 'absent'), undefined);
    });

    test('list: by prefix, in name order, every blob once across small pages; absent container is NOT_FOUND', async () => {
      const c = await container();
      const names = ['a/1', 'a/2', 'a/3', 'a/10', 'a/x/deep', 'b/1', 'b/2', 'c'];
      for (const n of names) await blobs.putBlob(c, n, Buffer.from(n));
      await blobs.stageBlock(c, 'a/staged-only', blockId(0), Buffer.from('x'));
      const a = await all(blobs.list(c, { prefix: 'a/', pageSize: 2 }));
      assert.deepEqual(
        a.map((b) => b.name),
        ['a/1', 'a/10', 'a/2', 'a/3', 'a/x/deep'],
      );
      assert.deepEqual(
        a.map((b) => b.size),
        [3, 4, 3, 3, 8],
      );
      const every = await all(blobs.list(c, { pageSize: 3 }));
      assert.deepEqual(
        every.map((b) => b.name),
        [...names].sort(),
      );
      assert.equal(every[0]!.etag, (await blobs.stat(c, every[0]!.name))?.etag, 'list and stat give the same ETag form');
      await blobs.putBlob(c, every[0]!.name, Buffer.from('again'), { ifMatch: every[0]!.etag });
      assert.equal((await all(blobs.list(c, { prefix: 'zzz' }))).length, 0);
      await assert.rejects(all(blobs.list(fresh('c'))), (e) => isBackupError(e, 'NOT_FOUND'));
    });

    test('conditional writes: ifNoneMatch loses to an existing blob, ifMatch to a changed one; the winner stays', async () => {
      const c = await container();
      const e1 = await blobs.putBlob(c, 'k', Buffer.from('one'), { ifNoneMatch: true });
      await rejectsWith(blobs.putBlob(c, 'k', Buffer.from('two'), { ifNoneMatch: true }), 'ALREADY_EXISTS', 'PRECONDITION_FAILED');
      assert.equal(text(await blobs.getBlob(c, 'k')), 'one');
      const e2 = await blobs.putBlob(c, 'k', Buffer.from('three'), { ifMatch: e1 });
      await rejectsWith(blobs.putBlob(c, 'k', Buffer.from('four'), { ifMatch: e1 }), 'PRECONDITION_FAILED');
      assert.equal(text(await blobs.getBlob(c, 'k')), 'three');
      assert.equal((await blobs.stat(c, 'k'))?.etag, e2);
      await blobs.stageBlock(c, 'k', blockId(0), Buffer.from('five'));
      await rejectsWith(blobs.commitBlocks(c, 'k', [blockId(0)], { ifNoneMatch: true }), 'ALREADY_EXISTS', 'PRECONDITION_FAILED');
      await rejectsWith(blobs.commitBlocks(c, 'k', [blockId(0)], { ifMatch: e1 }), 'PRECONDITION_FAILED');
      assert.equal(text(await blobs.getBlob(c, 'k')), 'three');
      await blobs.commitBlocks(c, 'k', [blockId(0)], { ifMatch: e2 });
      assert.equal(text(await blobs.getBlob(c, 'k')), 'five');
    });

    test('stage and commit: staged blocks are invisible until commit, which is in the order given; recommit is idempotent', async () => {
      const c = await container();
      await blobs.stageBlock(c, 'p', blockId(1), Buffer.from('BBB'));
      await blobs.stageBlock(c, 'p', blockId(0), [Buffer.from('A'), Buffer.from('A'), Buffer.from('A')]);
      await blobs.stageBlock(c, 'p', blockId(2), Buffer.from('old'));
      await blobs.stageBlock(c, 'p', blockId(2), Buffer.from('CCC'));
      assert.equal(await blobs.stat(c, 'p'), undefined);
      await rejectsWith(blobs.getBlob(c, 'p'), 'NOT_FOUND');
      assert.equal((await all(blobs.list(c))).length, 0);
      const etag = await blobs.commitBlocks(c, 'p', [blockId(0), blockId(1), blockId(2)], { ifNoneMatch: true });
      assert.equal(text(await blobs.getBlob(c, 'p')), 'AAABBBCCC');
      assert.equal((await blobs.stat(c, 'p'))?.etag, etag);
      await blobs.commitBlocks(c, 'p', [blockId(0), blockId(1), blockId(2)]);
      assert.equal(text(await blobs.getBlob(c, 'p')), 'AAABBBCCC');
      await rejectsWith(blobs.commitBlocks(c, 'q', [blockId(9)]), 'STORAGE');
      assert.equal(await blobs.stat(c, 'q'), undefined);
    });

    test('delete: true then false (idempotent), also for an absent container; ifMatch guards it', async () => {
      const c = await container();
      const etag = await blobs.putBlob(c, 'd', Buffer.from('d'));
      await blobs.putBlob(c, 'd', Buffer.from('d2'));
      await rejectsWith(blobs.deleteBlob(c, 'd', { ifMatch: etag }), 'PRECONDITION_FAILED');
      assert.equal(await blobs.deleteBlob(c, 'd'), true);
      assert.equal(await blobs.deleteBlob(c, 'd'), false);
      assert.equal(await blobs.stat(c, 'd'), undefined);
      assert.equal(await blobs.deleteBlob(fresh('c'), 'd'), false);
    });

    test('tags: set by put and by commit, read back; none is {}', async () => {
      const c = await container();
      await blobs.putBlob(c, 't1', Buffer.from('x'), { tags: { m365backup: 'pack', n: '1' } });
      assert.deepEqual(await blobs.getTags(c, 't1'), { m365backup: 'pack', n: '1' });
      await blobs.stageBlock(c, 't2', blockId(0), Buffer.from('y'));
      await blobs.commitBlocks(c, 't2', [blockId(0)], { tags: { m365backup: 'restore' } });
      assert.deepEqual(await blobs.getTags(c, 't2'), { m365backup: 'restore' });
      await blobs.putBlob(c, 't3', Buffer.from('z'));
      assert.deepEqual(await blobs.getTags(c, 't3'), {});
      await rejectsWith(blobs.getTags(c, 'absent'), 'NOT_FOUND');
    });

    test('tags: setTags replaces them without changing the content or the ETag; absent is NOT_FOUND', async () => {
      const c = await container();
      const etag = await blobs.putBlob(c, 'g', Buffer.from('g'), { tags: { m365backup: 'pack' } });
      await blobs.setTags(c, 'g', { m365backup: 'garbage' });
      assert.deepEqual(await blobs.getTags(c, 'g'), { m365backup: 'garbage' });
      assert.equal((await blobs.stat(c, 'g'))?.etag, etag);
      assert.equal(text(await blobs.getBlob(c, 'g')), 'g');
      await rejectsWith(blobs.setTags(c, 'absent', { a: 'b' }), 'NOT_FOUND');
    });

    test('tiers: written in a tier, moved between online tiers, same tier is a no-op; absent is NOT_FOUND', async () => {
      const c = await container();
      await blobs.putBlob(c, 'cool', Buffer.from('c'), { tier: 'Cool' });
      assert.equal((await blobs.stat(c, 'cool'))?.tier, 'Cool');
      await blobs.setTier(c, 'cool', 'Hot');
      assert.equal((await blobs.stat(c, 'cool'))?.tier, 'Hot');
      await blobs.setTier(c, 'cool', 'Hot');
      assert.equal((await blobs.stat(c, 'cool'))?.tier, 'Hot');
      await blobs.stageBlock(c, 'pack', blockId(0), Buffer.from('p'));
      await blobs.commitBlocks(c, 'pack', [blockId(0)], { tier: 'Cool' });
      const listed = await all(blobs.list(c));
      assert.deepEqual(
        listed.map((b) => [b.name, b.tier]),
        [
          ['cool', 'Hot'],
          ['pack', 'Cool'],
        ],
      );
      assert.equal(text(await blobs.getBlob(c, 'cool')), 'c');
      await rejectsWith(blobs.setTier(c, 'absent', 'Cool'), 'NOT_FOUND');
    });

    test('an aborted signal rejects every kind of call with an AbortError, and writes nothing', async () => {
      const c = await container();
      await blobs.putBlob(c, 'here', Buffer.from('x'));
      const signal = aborted();
      await rejectsAborted(blobs.putBlob(c, 'a', Buffer.from('x'), { abortSignal: signal }));
      await rejectsAborted(blobs.stageBlock(c, 'a', blockId(0), Buffer.from('x'), { abortSignal: signal }));
      await rejectsAborted(blobs.commitBlocks(c, 'a', [blockId(0)], { abortSignal: signal }));
      await rejectsAborted(blobs.getBlob(c, 'here', { abortSignal: signal }));
      await rejectsAborted(blobs.stat(c, 'here', { abortSignal: signal }));
      await rejectsAborted(all(blobs.list(c, { abortSignal: signal })));
      await rejectsAborted(blobs.deleteBlob(c, 'here', { abortSignal: signal }));
      await rejectsAborted(blobs.setTier(c, 'here', 'Cool', { abortSignal: signal }));
      await rejectsAborted(blobs.getTags(c, 'here', { abortSignal: signal }));
      await rejectsAborted(blobs.ensureContainer(fresh('c'), { abortSignal: signal }));
      await rejectsAborted(blobs.deleteContainer(c, { abortSignal: signal }));
      assert.equal(await blobs.stat(c, 'a'), undefined);
      assert.ok(await blobs.stat(c, 'here'));
    });

    test('a read-only URL serves the blob and refuses writes', async () => {
      const c = await container();
      await blobs.putBlob(c, 'u', Buffer.from('via url'));
      const url = await blobs.readOnlyUrl(c, 'u', new Date(Date.now() + 600_000));
      const r = await fetch(url);
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'via url');
      const w = await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } });
      assert.ok(w.status >= 400, `a write through a read-only URL is refused (${w.status})`);
    });

    test('archive: archived blobs cannot be read; rehydration is pending, then completes', async (t) => {
      if (!blobs.capabilities.archive || !s.advance) return t.skip('no Archive tier here (or no clock to move)');
      const c = await container();
      await blobs.putBlob(c, 'old', Buffer.from('archived content'), { tier: 'Cool' });
      await blobs.setTier(c, 'old', 'Archive');
      const info = await blobs.stat(c, 'old');
      assert.equal(info?.tier, 'Archive');
      assert.equal(info?.archiveStatus, undefined);
      await rejectsWith(blobs.getBlob(c, 'old'), 'BLOB_ARCHIVED');
      await rejectsWith(blobs.getBlob(c, 'old', { offset: 1, count: 2 }), 'BLOB_ARCHIVED');
      await blobs.setTier(c, 'old', 'Cool', { rehydratePriority: 'Standard' });
      const pending = await blobs.stat(c, 'old');
      assert.equal(pending?.tier, 'Archive');
      assert.equal(pending?.archiveStatus, 'rehydrate-pending-to-cool');
      assert.equal((await all(blobs.list(c)))[0]?.archiveStatus, 'rehydrate-pending-to-cool');
      await rejectsWith(blobs.getBlob(c, 'old'), 'BLOB_ARCHIVED');
      await blobs.setTier(c, 'old', 'Cool');
      s.advance(16 * 3600_000);
      const done = await blobs.stat(c, 'old');
      assert.equal(done?.tier, 'Cool');
      assert.equal(done?.archiveStatus, undefined);
      assert.equal(text(await blobs.getBlob(c, 'old')), 'archived content');
      await blobs.putBlob(c, 'new', Buffer.from('n'), { tier: 'Archive' });
      await rejectsWith(blobs.getBlob(c, 'new'), 'BLOB_ARCHIVED');
      await blobs.putBlob(c, 'new', Buffer.from('n2'), { tier: 'Hot' });
      assert.equal(text(await blobs.getBlob(c, 'new')), 'n2', 'an overwrite is a new, online version');
    });

    test('immutability unsupported: the calls fail with STORAGE', async (t) => {
      if (blobs.capabilities.immutability) return t.skip('this store has immutability');
      const c = await container();
      await blobs.putBlob(c, 'w', Buffer.from('w'));
      await rejectsWith(blobs.setImmutability(c, 'w', { until: new Date(now() + DAY), mode: 'Unlocked' }), 'STORAGE');
      await rejectsWith(blobs.setLegalHold(c, 'w', true), 'STORAGE');
      assert.equal(await blobs.deleteBlob(c, 'w'), true);
    });

    test('WORM, Unlocked policy: no overwrite or delete until removed or shortened away; stat reports it', async (t) => {
      if (!blobs.capabilities.immutability) return t.skip('no immutability here');
      const c = await container();
      await blobs.putBlob(c, 'u', Buffer.from('kept'));
      await rejectsWith(blobs.setImmutability(c, 'absent', { until: new Date(now() + DAY), mode: 'Unlocked' }), 'NOT_FOUND');
      const until = new Date(now() + 10 * DAY);
      await blobs.setImmutability(c, 'u', { until, mode: 'Unlocked' });
      await blobs.setImmutability(c, 'u', { until, mode: 'Unlocked' });
      const info = await blobs.stat(c, 'u');
      assert.equal(info?.immutableUntil?.getTime(), until.getTime());
      assert.equal(info?.immutabilityMode, 'Unlocked');
      assert.equal(info?.legalHold, false);
      await rejectsWith(blobs.putBlob(c, 'u', Buffer.from('changed')), 'IMMUTABLE');
      await blobs.stageBlock(c, 'u', blockId(0), Buffer.from('changed'));
      await rejectsWith(blobs.commitBlocks(c, 'u', [blockId(0)]), 'IMMUTABLE');
      await rejectsWith(blobs.deleteBlob(c, 'u'), 'IMMUTABLE');
      await rejectsWith(blobs.deleteContainer(c), 'IMMUTABLE');
      assert.equal(text(await blobs.getBlob(c, 'u')), 'kept');
      await blobs.setTags(c, 'u', { m365backup: 'garbage' });
      assert.deepEqual(await blobs.getTags(c, 'u'), { m365backup: 'garbage' }, 'tags can be set on an immutable blob');
      await rejectsWith(blobs.deleteBlob(c, 'u'), 'IMMUTABLE');
      await blobs.setImmutability(c, 'u', { until: new Date(now() + DAY), mode: 'Unlocked' });
      assert.ok((await blobs.stat(c, 'u'))!.immutableUntil!.getTime() < until.getTime(), 'an Unlocked policy can be shortened');
      await blobs.removeImmutability(c, 'u');
      await blobs.removeImmutability(c, 'u');
      assert.equal((await blobs.stat(c, 'u'))?.immutableUntil, undefined);
      await blobs.putBlob(c, 'u', Buffer.from('changed'));
      assert.equal(await blobs.deleteBlob(c, 'u'), true);
      await blobs.deleteContainer(c);
    });

    test('WORM, Locked policy: only extended, never shortened, unlocked or removed; expires', async (t) => {
      if (!blobs.capabilities.immutability) return t.skip('no immutability here');
      const c = await container();
      await blobs.putBlob(c, 'l', Buffer.from('locked'));
      const until = new Date(now() + 5 * DAY);
      await blobs.setImmutability(c, 'l', { until, mode: 'Locked' });
      await rejectsWith(blobs.setImmutability(c, 'l', { until: new Date(now() + DAY), mode: 'Locked' }), 'IMMUTABLE');
      await rejectsWith(blobs.setImmutability(c, 'l', { until: new Date(until.getTime() + DAY), mode: 'Unlocked' }), 'IMMUTABLE');
      await rejectsWith(blobs.removeImmutability(c, 'l'), 'IMMUTABLE');
      const later = new Date(until.getTime() + 2 * DAY);
      await blobs.setImmutability(c, 'l', { until: later, mode: 'Locked' });
      const info = await blobs.stat(c, 'l');
      assert.equal(info?.immutableUntil?.getTime(), later.getTime());
      assert.equal(info?.immutabilityMode, 'Locked');
      await rejectsWith(blobs.deleteBlob(c, 'l'), 'IMMUTABLE');
      if (!s.advance) return;
      s.advance(8 * DAY);
      assert.equal(await blobs.deleteBlob(c, 'l'), true, 'an expired policy no longer protects');
    });

    test('WORM, legal hold: independent of the policy; blocks overwrite and delete while set', async (t) => {
      if (!blobs.capabilities.immutability) return t.skip('no immutability here');
      const c = await container();
      await blobs.putBlob(c, 'h', Buffer.from('held'));
      await blobs.setLegalHold(c, 'h', true);
      await blobs.setLegalHold(c, 'h', true);
      assert.equal((await blobs.stat(c, 'h'))?.legalHold, true);
      await rejectsWith(blobs.deleteBlob(c, 'h'), 'IMMUTABLE');
      await rejectsWith(blobs.putBlob(c, 'h', Buffer.from('x')), 'IMMUTABLE');
      await blobs.setImmutability(c, 'h', { until: new Date(now() + DAY), mode: 'Unlocked' });
      await blobs.removeImmutability(c, 'h');
      await rejectsWith(blobs.deleteBlob(c, 'h'), 'IMMUTABLE');
      assert.equal((await blobs.stat(c, 'h'))?.legalHold, true, 'removing the policy keeps the hold');
      await blobs.setImmutability(c, 'h', { until: new Date(now() + DAY), mode: 'Unlocked' });
      await blobs.setLegalHold(c, 'h', false);
      assert.equal((await blobs.stat(c, 'h'))?.legalHold, false);
      await rejectsWith(blobs.deleteBlob(c, 'h'), 'IMMUTABLE');
      await blobs.removeImmutability(c, 'h');
      assert.equal(await blobs.deleteBlob(c, 'h'), true);
      await rejectsWith(blobs.setLegalHold(c, 'h', true), 'NOT_FOUND');
    });
  });
}

export function describeTableContract(label: string, setup: () => Promise<TableSubject>): void {
  describe(`table contract: ${label}`, () => {
    let tables: TableStore;
    const table = async () => {
      const t = fresh('t');
      await tables.ensureTable(t);
      return t;
    };

    before(async () => {
      tables = (await setup()).tables;
    });

    test('tables: ensure and delete are idempotent, listed', async () => {
      const t = fresh('t');
      await tables.ensureTable(t);
      await tables.ensureTable(t);
      assert.ok((await tables.listTables()).includes(t));
      await tables.deleteTable(t);
      await tables.deleteTable(t);
      assert.ok(!(await tables.listTables()).includes(t));
    });

    test('create and get: typed properties round-trip with an etag; a second create is ALREADY_EXISTS', async () => {
      const t = await table();
      const row = { partitionKey: 'p', rowKey: 'r', n: 42.5, i: 7, s: 'text', b: true, bin: new Uint8Array([1, 2, 255]) };
      const etag = await tables.create(t, row);
      assert.ok(etag);
      const got = await tables.get(t, 'p', 'r');
      assert.ok(got);
      assert.equal(got.etag, etag);
      assert.equal(got.n, 42.5);
      assert.equal(got.i, 7);
      assert.equal(got.s, 'text');
      assert.equal(got.b, true);
      assert.deepEqual(Buffer.from(got.bin as Uint8Array), Buffer.from([1, 2, 255]));
      await rejectsWith(tables.create(t, { partitionKey: 'p', rowKey: 'r', n: 1 }), 'ALREADY_EXISTS');
      assert.equal((await tables.get(t, 'p', 'r'))?.n, 42.5);
      assert.equal(await tables.get(t, 'p', 'absent'), undefined);
      assert.equal(await tables.get(fresh('t'), 'p', 'r'), undefined);
      await rejectsWith(tables.create(fresh('t'), { partitionKey: 'p', rowKey: 'r' }), 'NOT_FOUND');
    });

    test('upsert replaces the whole row; update needs the current etag; merge keeps other properties', async () => {
      const t = await table();
      await tables.upsert(t, { partitionKey: 'p', rowKey: 'r', a: 1, b: 2 });
      const e1 = await tables.upsert(t, { partitionKey: 'p', rowKey: 'r', a: 3 });
      assert.deepEqual({ ...(await tables.get(t, 'p', 'r')), etag: undefined }, { partitionKey: 'p', rowKey: 'r', a: 3, etag: undefined });
      const e2 = await tables.update(t, { partitionKey: 'p', rowKey: 'r', a: 4, c: 5 }, e1);
      assert.notEqual(e2, e1);
      await rejectsWith(tables.update(t, { partitionKey: 'p', rowKey: 'r', a: 6 }, e1), 'PRECONDITION_FAILED');
      await rejectsWith(tables.update(t, { partitionKey: 'p', rowKey: 'absent', a: 6 }, e1), 'NOT_FOUND', 'PRECONDITION_FAILED');
      const e3 = await tables.merge(t, { partitionKey: 'p', rowKey: 'r', d: 'x' }, { etag: e2 });
      const merged = await tables.get(t, 'p', 'r');
      assert.equal(merged?.a, 4);
      assert.equal(merged?.c, 5);
      assert.equal(merged?.d, 'x');
      assert.equal(merged?.etag, e3);
      await rejectsWith(tables.merge(t, { partitionKey: 'p', rowKey: 'r', d: 'y' }, { etag: e2 }), 'PRECONDITION_FAILED');
      await tables.merge(t, { partitionKey: 'p', rowKey: 'r', d: 'z' });
      assert.equal((await tables.get(t, 'p', 'r'))?.d, 'z');
      await rejectsWith(tables.merge(t, { partitionKey: 'p', rowKey: 'absent', d: 'y' }), 'NOT_FOUND');
      assert.equal(await tables.get(t, 'p', 'absent'), undefined, 'merge does not create');
    });

    test('delete: idempotent; with a stale etag PRECONDITION_FAILED', async () => {
      const t = await table();
      const e1 = await tables.create(t, { partitionKey: 'p', rowKey: 'r', a: 1 });
      await tables.upsert(t, { partitionKey: 'p', rowKey: 'r', a: 2 });
      await rejectsWith(tables.delete(t, 'p', 'r', { etag: e1 }), 'PRECONDITION_FAILED');
      assert.ok(await tables.get(t, 'p', 'r'));
      await tables.delete(t, 'p', 'r');
      await tables.delete(t, 'p', 'r');
      assert.equal(await tables.get(t, 'p', 'r'), undefined);
    });

    test('query: filter and select, key order, every row once across small pages; absent table NOT_FOUND', async () => {
      const t = await table();
      const ops = [];
      for (let i = 0; i < 25; i++) ops.push({ kind: 'upsert' as const, row: { partitionKey: i % 2 ? 'odd' : 'even', rowKey: `r${String(i).padStart(3, '0')}`, i, big: 'x'.repeat(100) } });
      await tables.batch(t, ops);
      const odd = await all(tables.query(t, { filter: "PartitionKey eq 'odd' and i ge 11", select: ['i'], pageSize: 2 }));
      assert.deepEqual(
        odd.map((r) => r.i),
        [11, 13, 15, 17, 19, 21, 23],
      );
      assert.equal(odd[0]!.big, undefined, 'select limits the properties');
      assert.ok(odd[0]!.etag);
      assert.equal(odd[0]!.rowKey, 'r011');
      const every = await all(tables.query(t, { pageSize: 4 }));
      assert.equal(every.length, 25);
      assert.deepEqual(
        every.map((r) => `${r.partitionKey}/${r.rowKey}`),
        every.map((r) => `${r.partitionKey}/${r.rowKey}`).sort(),
      );
      await assert.rejects(all(tables.query(fresh('t'))), (e) => isBackupError(e, 'NOT_FOUND'));
    });

    test('batch: each partition group is atomic; other partitions are independent', async () => {
      const t = await table();
      await tables.create(t, { partitionKey: 'a', rowKey: 'taken', v: 0 });
      await rejectsWith(
        tables.batch(
          t,
          [
            { kind: 'upsert', row: { partitionKey: 'b', rowKey: 'other', v: 1 } },
            { kind: 'upsert', row: { partitionKey: 'a', rowKey: 'new1', v: 1 } },
            { kind: 'create', row: { partitionKey: 'a', rowKey: 'taken', v: 1 } },
            { kind: 'upsert', row: { partitionKey: 'a', rowKey: 'new2', v: 1 } },
          ],
          { concurrency: 1 },
        ),
        'ALREADY_EXISTS',
      );
      assert.equal(await tables.get(t, 'a', 'new1'), undefined, 'nothing of the failed group was applied');
      assert.equal(await tables.get(t, 'a', 'new2'), undefined);
      assert.equal((await tables.get(t, 'a', 'taken'))?.v, 0);
      assert.equal((await tables.get(t, 'b', 'other'))?.v, 1, 'the group of another partition was applied');
      const etag = (await tables.get(t, 'a', 'taken'))!.etag;
      await tables.upsert(t, { partitionKey: 'a', rowKey: 'taken', v: 2 });
      await rejectsWith(
        tables.batch(t, [
          { kind: 'upsert', row: { partitionKey: 'a', rowKey: 'new1', v: 1 } },
          { kind: 'update', row: { partitionKey: 'a', rowKey: 'taken', v: 3 }, etag },
        ]),
        'PRECONDITION_FAILED',
      );
      assert.equal(await tables.get(t, 'a', 'new1'), undefined);
      await tables.batch(t, [
        { kind: 'merge', row: { partitionKey: 'a', rowKey: 'taken', w: 9 } },
        { kind: 'delete', partitionKey: 'b', rowKey: 'other' },
        { kind: 'create', row: { partitionKey: 'c', rowKey: 'x', v: 1 } },
      ]);
      const taken = await tables.get(t, 'a', 'taken');
      assert.equal(taken?.v, 2);
      assert.equal(taken?.w, 9);
      assert.ok(await tables.get(t, 'c', 'x'));
      assert.equal(await tables.get(t, 'b', 'other'), undefined);
      await rejectsWith(tables.batch(t, [{ kind: 'delete', partitionKey: 'b', rowKey: 'other' }]), 'NOT_FOUND');
    });

    test('batch: more than 100 operations of one partition are split into groups of 100', async () => {
      const t = await table();
      const ops = [];
      for (let i = 0; i < 250; i++) ops.push({ kind: 'upsert' as const, row: { partitionKey: 'p', rowKey: String(i).padStart(4, '0'), i } });
      await tables.batch(t, ops);
      const rows = await all(tables.query(t, { filter: "PartitionKey eq 'p'", select: ['i'] }));
      assert.equal(rows.length, 250);
      assert.deepEqual(
        rows.map((r) => r.i),
        [...Array(250).keys()],
      );
    });

    test('an aborted signal rejects every kind of call with an AbortError, and writes nothing', async () => {
      const t = await table();
      await tables.create(t, { partitionKey: 'p', rowKey: 'here' });
      const abortSignal = aborted();
      await rejectsAborted(tables.create(t, { partitionKey: 'p', rowKey: 'a' }, { abortSignal }));
      await rejectsAborted(tables.upsert(t, { partitionKey: 'p', rowKey: 'a' }, { abortSignal }));
      await rejectsAborted(tables.merge(t, { partitionKey: 'p', rowKey: 'here', x: 1 }, { abortSignal }));
      await rejectsAborted(tables.get(t, 'p', 'here', { abortSignal }));
      await rejectsAborted(tables.delete(t, 'p', 'here', { abortSignal }));
      await rejectsAborted(all(tables.query(t, { abortSignal })));
      await rejectsAborted(tables.batch(t, [{ kind: 'upsert', row: { partitionKey: 'p', rowKey: 'b' } }], { abortSignal }));
      await rejectsAborted(tables.listTables({ abortSignal }));
      await rejectsAborted(tables.ensureTable(fresh('t'), { abortSignal }));
      assert.equal(await tables.get(t, 'p', 'a'), undefined);
      assert.equal(await tables.get(t, 'p', 'b'), undefined);
      assert.ok(await tables.get(t, 'p', 'here'));
    });
  });
}
