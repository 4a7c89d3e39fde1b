import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BloomFilter } from '../../../shared/repo/bloom';

describe('BloomFilter', () => {
  test('never forgets an added ID, and rarely claims an unknown one', () => {
    const bloom = new BloomFilter(100_000);
    const ids = Array.from({ length: 50_000 }, () => randomBytes(32));
    for (const id of ids) bloom.add(id);
    for (const id of ids) assert.ok(bloom.mightContain(id));
    let falsePositives = 0;
    for (let i = 0; i < 50_000; i++) if (bloom.mightContain(randomBytes(32))) falsePositives++;
    assert.ok(falsePositives < 500, `${falsePositives} false positives in 50,000`);
  });

  test('survives encoding and rejects a tampered blob', () => {
    const key = randomBytes(32);
    const bloom = new BloomFilter(1000);
    const id = randomBytes(32);
    bloom.add(id);
    const blob = bloom.encode(key);
    assert.ok(BloomFilter.decode(key, blob)!.mightContain(id));
    blob[30]! ^= 1;
    assert.equal(BloomFilter.decode(key, blob), undefined);
  });
});
