import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packDeletion, monthlyCost } from '../../../shared/repo/packEconomics';

const DAY = 86_400_000;
const GIB = 1024 ** 3;
const now = Date.UTC(2026, 11, 1);
const prices = { Hot: 0.04, Cool: 0.02, Cold: 0.01, Archive: 0.003 };
const pack = (o: object) => ({ name: 'p', etag: '"e"', size: 3 * GIB, ...o });

test('a Hot or unlocked pack past its minimum is deletable now, with no fee', () => {
  assert.deepEqual(packDeletion(pack({ tier: 'Hot', tierSince: new Date(now) }), now, prices), { deletableAt: now, unlockedAt: now, feeNow: 0 });
  assert.equal(packDeletion(pack({ tier: 'Cool', tierSince: new Date(now - 31 * DAY) }), now, prices).waitingFor, undefined);
});

test('inside the tier minimum: deletable when it ends; the fee now is the prorated rest', () => {
  const d = packDeletion(pack({ tier: 'Archive', tierSince: new Date(now - 45 * DAY) }), now, prices);
  assert.equal(d.waitingFor, 'tier-minimum');
  assert.equal(d.deletableAt, now + 135 * DAY);
  // Azure's example: an Archive blob deleted on day 45 is billed 135 more days.
  assert.ok(Math.abs(d.feeNow - (135 / 30) * 3 * 0.003) < 1e-9, String(d.feeNow));
});

test('under a lock: deletable at the later of lock end and minimum; only the minimum after the lock is a fee', () => {
  const d = packDeletion(pack({ tier: 'Cool', tierSince: new Date(now), immutableUntil: new Date(now + 10 * DAY) }), now, prices);
  assert.equal(d.waitingFor, 'immutability');
  assert.equal(d.unlockedAt, now + 10 * DAY);
  assert.equal(d.deletableAt, now + 30 * DAY);
  assert.ok(Math.abs(d.feeNow - (20 / 30) * 3 * 0.02) < 1e-9);
  const longLock = packDeletion(pack({ tier: 'Cool', tierSince: new Date(now), immutableUntil: new Date(now + 60 * DAY) }), now, prices);
  assert.equal(longLock.feeNow, 0, 'a lock longer than the minimum leaves nothing to pay');
});

test('a legal hold: never deletable while it lasts', () => {
  const d = packDeletion(pack({ tier: 'Cool', legalHold: true }), now, prices);
  assert.equal(d.waitingFor, 'legal-hold');
  assert.equal(d.deletableAt, Infinity);
});

test('monthly cost is size in GiB times the tier price', () => {
  assert.equal(monthlyCost(2 * GIB, 'Cold', prices), 0.02);
});
