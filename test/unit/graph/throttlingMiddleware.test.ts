import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryAfterMs } from '../../../shared/graph/throttlingMiddleware';

test('Retry-After is read as delta-seconds or as an HTTP date', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');
  assert.equal(retryAfterMs('3', now), 3000);
  assert.equal(retryAfterMs('0', now), 0);
  assert.equal(retryAfterMs('Sun, 22 Nov 2026 10:00:07 GMT', now), 7000);
  assert.equal(retryAfterMs('Sun, 22 Nov 2026 09:59:00 GMT', now), 0);
  assert.equal(retryAfterMs('soon', now), undefined);
  assert.equal(retryAfterMs(null, now), undefined);
});
