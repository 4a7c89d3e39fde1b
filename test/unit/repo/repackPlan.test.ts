import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_STORAGE_PRICES } from '../../../shared/config';
import { packRepack } from '../../../shared/repo/packEconomics';
import { planRepack, tailBytes, type PartlyUsedPack } from '../../../shared/repo/repackPlan';
import type { BlobInfo } from '../../../shared/storage';

const DAY = 86_400_000;
const MIB = 1024 * 1024;
const NOW = Date.UTC(2026, 11, 2);

const info = (o: Partial<BlobInfo> = {}): BlobInfo => ({ name: 'p', size: 16 * MIB, etag: 'e', tier: 'Cool', tierSince: new Date(NOW - 60 * DAY), ...o });

describe('packRepack: whether rewriting a partly used pack pays', () => {
  test('an Archive pack, or one rehydrating, is never repacked, however dead and however old', () => {
    assert.equal(packRepack(info({ tier: 'Archive', tierSince: new Date(NOW - 400 * DAY) }), MIB, 15 * MIB, NOW, DEFAULT_STORAGE_PRICES, 'pay').refusedFor, 'archive');
    assert.equal(packRepack(info({ archiveStatus: 'rehydrate-pending-to-cool' }), MIB, 15 * MIB, NOW).refusedFor, 'archive');
  });

  test('a legal hold refuses it', () => {
    assert.equal(packRepack(info({ legalHold: true }), MIB, 15 * MIB, NOW).refusedFor, 'legal-hold');
  });

  test('past its minimum and unlocked, any dead bytes pay; a fresh Cool pack owes its whole fee and does not, unless the fee is accepted', () => {
    assert.equal(packRepack(info(), 15 * MIB, MIB, NOW).refusedFor, undefined);
    const fresh = info({ tierSince: new Date(NOW - DAY) });
    assert.equal(packRepack(fresh, MIB, 15 * MIB, NOW).refusedFor, 'fee', '29 days of fee on 16 MiB > 30 days of 15 MiB dead');
    assert.equal(packRepack(fresh, MIB, 15 * MIB, NOW, NO_PRICES_UNSET, 'pay').refusedFor, undefined);
    // Near the end of the minimum, a mostly dead pack pays (byte-days without prices, money with them: same decision).
    const nearEnd = info({ tierSince: new Date(NOW - 25 * DAY) });
    assert.equal(packRepack(nearEnd, 8 * MIB, 8 * MIB, NOW).refusedFor, undefined);
    const priced = packRepack(nearEnd, 8 * MIB, 8 * MIB, NOW, DEFAULT_STORAGE_PRICES);
    assert.equal(priced.refusedFor, undefined);
    assert.ok(priced.saving > priced.cost && priced.feeNow > 0, JSON.stringify(priced));
  });

  test('a locked pack is repacked only when its dead bytes outweigh the live bytes stored twice until the lock ends', () => {
    const locked = info({ immutableUntil: new Date(NOW + 35 * DAY) });
    assert.equal(packRepack(locked, 8 * MIB, 8 * MIB, NOW).refusedFor, 'fee');
    assert.equal(packRepack(locked, 2 * MIB, 14 * MIB, NOW).refusedFor, undefined);
  });
});

const NO_PRICES_UNSET = { Hot: 0, Cool: 0, Cold: 0, Archive: 0 };

describe('planRepack: which packs, and the new packs', () => {
  const pack = (id: string, liveLens: number[], deadBytes: number): PartlyUsedPack => {
    let off = 0;
    const live = liveLens.map((len, i) => ({ id: `${id}${i}`.padEnd(64, '0'), pack: id, off: (off += len) - len, len, raw: len }));
    return { packId: id, size: liveLens.reduce((a, b) => a + b, 0) + deadBytes + tailBytes(liveLens.length + 1, 92), live, deadBytes };
  };
  const opts = { now: NOW, prices: NO_PRICES_UNSET, earlyDeletion: 'defer' as const, maxUnused: 0.05, packTargetBytes: 4 * MIB, sealedKeyBytes: 92 };

  test('most wasteful first until the dead bytes left are within maxUnused; Archive ones are refused and counted; new packs fit the target', () => {
    const packs = [pack('aa', [MIB, MIB], 2 * MIB), pack('bb', [3 * MIB], MIB / 10), pack('cc', [MIB], 3 * MIB), pack('dd', [MIB], 3 * MIB)];
    const infos = new Map(packs.map((p) => [p.packId, info({ size: p.size, tier: p.packId === 'dd' ? 'Archive' : 'Cool' })]));
    const plan = planRepack(packs, infos, { ...opts, liveBytesTotal: 20 * MIB });
    assert.deepEqual(plan.packs.map((p) => p.packId), ['aa', 'cc'], 'cc (75% dead) and aa (50%); bb is within the allowance');
    assert.deepEqual(plan.refused, { archive: 1, 'legal-hold': 0, fee: 0, unused: 1 });
    assert.equal(plan.groups.flat().length, 3);
    for (const g of plan.groups) assert.ok(g.reduce((n, c) => n + c.len, 0) + tailBytes(g.length, 92) <= 4 * MIB);
    assert.equal(plan.writtenBytes, 3 * MIB + plan.groups.reduce((n, g) => n + tailBytes(g.length, 92), 0), 'the prediction is exact: chunks keep their lengths');
    assert.equal(plan.oldBytes, packs[0]!.size + packs[2]!.size);
  });

  test('maxUnused 0 repacks every eligible pack; nothing partly used, nothing planned', () => {
    const packs = [pack('aa', [MIB], MIB / 100)];
    const infos = new Map(packs.map((p) => [p.packId, info({ size: p.size })]));
    assert.equal(planRepack(packs, infos, { ...opts, maxUnused: 0, liveBytesTotal: MIB }).packs.length, 1);
    assert.deepEqual(planRepack([], infos, { ...opts, liveBytesTotal: MIB }).groups, []);
  });
});
