import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { macValid, withMac, endMac, macNumber } from '../../../shared/repo/rowMac';

describe('row MACs', () => {
  test('any changed field fails; ending a version is covered by its own MAC', () => {
    const key = randomBytes(32);
    const row = withMac(key, 'items', { partitionKey: 'p-1', rowKey: 'r', f: 1, t: 2147483647, d0: Buffer.from('payload') });
    assert.ok(macValid(key, 'items', row));
    assert.ok(!macValid(key, 'items', { ...row, f: 2 }));
    assert.ok(!macValid(key, 'items', { ...row, d0: Buffer.from('payloaD') }));
    assert.ok(!macValid(key, 'items', { ...row, t: 5 }));
    const ended = { ...row, t: 5, tm: endMac(key, 'items', 'p-1', 'r', 5, row.mac) };
    assert.ok(macValid(key, 'items', ended));
  });
});

describe('row MAC numbers (docs/repository-format.md, "Row MACs")', () => {
  test('a MACed number is a safe integer in decimal; anything else is refused before it is written', () => {
    assert.deepEqual([0, -0, 7, -5, 3_000_000_000, 2 ** 53 - 1].map((n) => macNumber('x', n)), ['0', '0', '7', '-5', '3000000000', '9007199254740991']);
    const key = randomBytes(32);
    for (const bad of [0.5, NaN, -Infinity, 2 ** 53, 1e21])
      assert.throws(() => withMac(key, 'items', { partitionKey: 'p', rowKey: 'r', size: bad }), RangeError, String(bad));
    assert.throws(() => withMac(key, 'items', { partitionKey: 'p', rowKey: 'r', f: 1, t: 1.5 }), RangeError, 'the end MAC too');
    const row = withMac(key, 'items', { partitionKey: 'p', rowKey: 'r', size: 3_000_000_000 });
    assert.ok(macValid(key, 'items', row));
    assert.equal(macValid(key, 'items', { ...row, size: 3_000_000_000.5 }), false, 'a fraction read back is altered, not a crash');
    assert.equal(macValid(key, 'items', { ...row, extra: new Date(0) }), false, 'so is a type no writer MACs');
  });
});

