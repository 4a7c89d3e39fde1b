import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addOutcome, emptyTotals, mergeOutcomes, type ServiceOutcome } from '../../../shared/m365/outcome';

const unit = (o: Partial<ServiceOutcome>): ServiceOutcome => ({ service: 'mail', status: 'complete', snapshot: 1, items: 10, fetched: 2, fetchedBytes: 200, removed: 1, failed: 0, ...o });

test('work units of one service merge: counts add up, the last unit’s snapshot, status and item count stand', () => {
  const merged = mergeOutcomes(mergeOutcomes(undefined, unit({ snapshot: 4 })), unit({ snapshot: 5, items: 12, fetched: 3, failed: 1, status: 'partial' }));
  assert.deepEqual(merged, { service: 'mail', status: 'partial', snapshot: 5, items: 12, fetched: 5, fetchedBytes: 400, removed: 2, failed: 1, units: 2 });
});

test('run totals count services, items and partial services', () => {
  const t = [unit({}), unit({ status: 'failed', items: 0, failed: 1 })].reduce(addOutcome, emptyTotals());
  assert.deepEqual(t, { users: 0, services: 2, items: 10, fetched: 4, fetchedBytes: 400, removed: 2, failed: 1, partial: 1 });
});
