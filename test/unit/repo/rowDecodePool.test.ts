import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeItemRows, PROP_BYTES, PROPS_PER_ROW } from '../../../shared/repo/itemRow';
import { RowDecodePool } from '../../../shared/repo/rowDecodePool';
import type { StoredRow } from '../../../shared/storage';

/** The workers that check and open item rows for a browse read give what the calling thread gives. */
const macKey = randomBytes(32);
const run = { keyId: 'k1', key: randomBytes(32) };
const runKeys = new Map([[run.keyId, run.key]]);
const TABLE = 'items';
const stored = (rows: ReturnType<typeof encodeItemRows>): StoredRow[] => rows.map((r) => ({ ...r, etag: 'e' }) as StoredRow);
const groups = (): StoredRow[][] => [
  ...Array.from({ length: 5 }, (_, i) => stored(encodeItemRows(TABLE, macKey, 'p-0', 1, run, { itemToken: `tok${i}`, changeToken: `c${i}`, groupToken: 'g', meta: { id: `m${i}`, subject: `é ${i}` }, chunkIds: randomBytes(64) }))),
  // A version whose payload needs a continuation row.
  stored(encodeItemRows(TABLE, macKey, 'p-0', 2, run, { itemToken: 'big', changeToken: 'cb', meta: { id: 'big' }, chunkIds: randomBytes(32 * Math.ceil((PROP_BYTES * PROPS_PER_ROW) / 32 + 10)) })),
];

test('two workers decode exactly as the calling thread does (chunk IDs as Buffers); a tampered row is damaged, alone', async () => {
  const input = groups();
  assert.equal(input.at(-1)!.length, 2, 'the big version has a continuation row');
  input[2]![0]!.f = 9; // altered in the clear: its MAC no longer matches
  const here = await new RowDecodePool(0).decode(macKey, TABLE, runKeys, input);
  const pool = new RowDecodePool(2);
  const there = await pool.decode(macKey, TABLE, runKeys, input);
  assert.deepEqual(there, here);
  assert.ok(there.every((d) => 'reason' in d || Buffer.isBuffer(d.chunkIds)));
  assert.deepEqual(there.map((d) => ('reason' in d ? d.row : d.meta.id)), ['m0', 'm1', `p-0/${input[2]![0]!.rowKey}`, 'm3', 'm4', 'big']);
  assert.match(('reason' in there[2]! && there[2].reason) || '', /was altered or is corrupted/);
});

test('a missing run key fails only its version; jobs spread over the workers keep their order', async () => {
  const pool = new RowDecodePool(2);
  const batches = await Promise.all(Array.from({ length: 6 }, () => pool.decode(macKey, TABLE, new Map(), groups().slice(0, 2))));
  for (const b of batches) assert.deepEqual(b.map((d) => 'reason' in d && /unknown run key/.test(d.reason)), [true, true]);
});
