import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { selectSnapshots } from '../../../shared/retention';

const HOUR = 3_600_000;
/** One snapshot every 6 hours for 60 days, starting Monday 2026-01-05 00:00 UTC. */
const snaps = Array.from({ length: 240 }, (_, i) => ({ seq: i + 1, time: new Date(Date.UTC(2026, 0, 5) + i * 6 * HOUR).toISOString() }));
const kept = (rules: Parameters<typeof selectSnapshots>[1]) => selectSnapshots(snaps, rules).filter((d) => d.keep).map((d) => d.seq);

describe('selectSnapshots (restic forget semantics)', () => {
  test('keep-last keeps the N newest', () => {
    assert.deepEqual(kept({ last: 3 }), [238, 239, 240]);
  });

  test('keep-daily keeps the newest snapshot of each of the N most recent days', () => {
    // Day 60 (2026-03-05) holds seqs 237..240; each earlier day's newest is its 18:00 snapshot.
    assert.deepEqual(kept({ daily: 3 }), [232, 236, 240]);
  });

  test('keep-weekly uses ISO weeks (Monday first) and keep-monthly calendar months, in UTC', () => {
    const weekly = selectSnapshots(snaps, { weekly: 2 }).filter((d) => d.keep);
    assert.deepEqual(weekly.map((d) => d.time), ['2026-03-01T18:00:00.000Z', '2026-03-05T18:00:00.000Z']); // Sunday ends week 9
    assert.deepEqual(selectSnapshots(snaps, { monthly: 5 }).filter((d) => d.keep).map((d) => d.time.slice(0, 10)), ['2026-01-31', '2026-02-28', '2026-03-05']);
  });

  test('rules combine (a snapshot kept by any rule is kept) and reasons name them', () => {
    const d = selectSnapshots(snaps, { last: 1, daily: 2, yearly: 1 });
    assert.deepEqual(d.filter((x) => x.keep).map((x) => [x.seq, x.reasons]), [[236, ['daily']], [240, ['last', 'daily', 'yearly']]]);
  });

  test('keep-within counts back from the newest snapshot, not from now', () => {
    assert.deepEqual(kept({ within: '1d' }), [236, 237, 238, 239, 240]);
    assert.deepEqual(kept({ within: '12h' }), [238, 239, 240]);
  });

  test('an hourly rule with one snapshot per bucket keeps exactly N', () => {
    assert.equal(kept({ hourly: 10 }).length, 10);
    assert.equal(kept({ hourly: 1000 }).length, 240);
  });
});
