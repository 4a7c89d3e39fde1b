import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteBudget } from '../../../shared/restore/m365/write/slots';

test('the content budget never holds more than its limit, serves waiters in order, and lets an item larger than the whole budget run alone', async () => {
  const budget = new ByteBudget(100);
  let peak = 0;
  const order: string[] = [];
  const gates = new Map<string, () => void>();
  const job = (name: string, bytes: number) =>
    budget.run(bytes, async () => {
      peak = Math.max(peak, budget.inUse);
      order.push(name);
      await new Promise<void>((r) => gates.set(name, r));
    });
  const a = job('a', 60);
  const b = job('b', 60); // waits: 120 > 100
  const c = job('c', 10); // waits behind b (first come, first served), though it would fit
  const big = job('big', 500); // larger than the budget: charged as the whole budget
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['a']);
  gates.get('a')!();
  await a;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['a', 'b', 'c']);
  gates.get('b')!();
  gates.get('c')!();
  await Promise.all([b, c]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['a', 'b', 'c', 'big']);
  assert.equal(budget.inUse, 100);
  gates.get('big')!();
  await big;
  assert.equal(budget.inUse, 0);
  assert.ok(peak <= 100, `peak ${peak}`);
});

test('the budget is given back when the work fails', async () => {
  const budget = new ByteBudget(10);
  await assert.rejects(budget.run(8, async () => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(budget.inUse, 0);
});
