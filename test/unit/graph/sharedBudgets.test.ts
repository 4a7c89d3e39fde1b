import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyBudgetState, type BudgetState } from '../../../shared/graph/budgetLedger';
import { compact, grantRetention, leaseSlots, MAX_GRANTS, MAX_MAILBOX_PAUSES, noteMailboxPause, takeTokens } from '../../../shared/graph/budgetRules';
import { mailboxAllowance, SharedTenantGates } from '../../../shared/graph/sharedGates';
import { createHash } from 'node:crypto';
import { batchSize } from '../../../shared/graph/throttlingMiddleware';
import { GraphBudgetLedger } from '../../../shared/repo/graphBudgetLedger';
import { startTestStorage, type TestStorage } from '../../support/azurite';

const limit = { budget: 100, windowMs: 10_000 };

/** Each process sends `n` requests as fast as its gates let it; the send times go to `sent`. */
async function sendFromEach(processes: SharedTenantGates[], mailbox: string | undefined, n: number, sent: number[]): Promise<void> {
  await Promise.all(
    processes.map(async (g) => {
      for (let i = 0; i < n; i++) {
        const release = await g.enter(mailbox);
        sent.push(Date.now());
        release();
      }
    }),
  );
}

/** Within any window, at most the budget (arrivals = sends here: no latency). */
function assertWithinWindows(sent: number[], w: { budget: number; windowMs: number }): void {
  sent.sort((x, y) => x - y);
  for (let i = 0, j = 0; j < sent.length; j++) {
    while (sent[j]! - sent[i]! >= w.windowMs) i++;
    assert.ok(j - i + 1 <= w.budget, `${j - i + 1} requests within one window`);
  }
}

describe('budget rules (pure)', () => {
  test('grants of every holder together never exceed the window budget; an expired grant gives back what it did not send', () => {
    let s: BudgetState = emptyBudgetState();
    let t = 1_000_000;
    const take = (holder: string, want: number, settle?: { id: string; used: number }) => {
      const r = takeTokens(s, t, { holder, id: `${holder}:${t}`, want, limit, holdMs: 500, settle });
      s = r.next;
      return r.result;
    };
    assert.equal(take('a', 60).granted, 60);
    assert.equal(take('b', 60).granted, 40, 'only what is left of the window');
    const refused = take('c', 10);
    assert.equal(refused.granted, 0);
    assert.equal(refused.retryAt, 1_000_000 + grantRetention(limit, 500) + 1, 'retry when the oldest grant leaves the window');
    t += 600; // a's grant expired (hold 500 ms) having sent 20: the other 40 come back
    assert.equal(take('a', 50, { id: 'a:1000000', used: 20 }).granted, 40);
    t = 1_000_000 + grantRetention(limit, 500) + 1;
    assert.equal(take('c', 100).granted, 60, "the first grants left the window; a's second one (40) is still in");
  });

  test('the grant list stays bounded whatever the number of takes', () => {
    const many = Array.from({ length: MAX_GRANTS + 50 }, (_, i) => ({ id: `x:${i}`, at: i, n: 1 }));
    const c = compact(many);
    assert.equal(c.length, MAX_GRANTS);
    assert.equal(c.reduce((a, g) => a + g.n, 0), many.length, 'no token is forgotten');
  });

  test('slot leases: the cap is never exceeded, wants are shared, a dead holder (expired lease) gives its slots back', () => {
    let s: BudgetState = emptyBudgetState();
    const lease = (holder: string, want: number, inUse: number, now: number) => {
      const r = leaseSlots(s, now, { holder, want, inUse, limit: 8, ttlMs: 1000 });
      s = r.next;
      return r.result;
    };
    assert.equal(lease('a', 8, 0, 0), 8);
    assert.equal(lease('b', 8, 0, 10), 0, 'nothing free');
    assert.equal(lease('a', 8, 8, 20), 4, 'a is due half: it admits no more than that from now on...');
    assert.equal(s.holders.find((h) => h.id === 'a')!.slots, 8, '...but the row keeps the slots still in use');
    assert.equal(lease('b', 8, 0, 22), 0, 'so nothing is free for b yet');
    assert.equal(lease('a', 8, 3, 25), 4, 'as its requests finish, a records its due share');
    assert.equal(lease('b', 8, 0, 30), 4);
    assert.ok(s.holders.reduce((n, h) => n + h.slots, 0) <= 8);
    // a dies: its lease is not renewed, and after the TTL its slots are free again
    assert.equal(lease('b', 8, 4, 1100), 8);
  });

  test('mailbox pauses in the tenant row: expired ones dropped, a longer one replaces a shorter, the list bounded', () => {
    let st: BudgetState = emptyBudgetState();
    const now = 1_000_000;
    st = noteMailboxPause(st, 'mb-a', now + 5000, now).next!;
    assert.equal(noteMailboxPause(st, 'mb-a', now + 1000, now).next, undefined, 'a shorter pause changes nothing');
    st = noteMailboxPause(st, 'mb-a', now + 9000, now).next!;
    assert.deepEqual(st.mailboxPauses, [{ key: 'mb-a', until: now + 9000 }]);
    st = noteMailboxPause(st, 'mb-b', now + 20_000, now + 10_000).next!;
    assert.deepEqual(st.mailboxPauses, [{ key: 'mb-b', until: now + 20_000 }], 'the expired one is gone');
    for (let i = 0; i < 3 * MAX_MAILBOX_PAUSES; i++) st = noteMailboxPause(st, `mb-${i}`, now + 30_000 + i, now).next!;
    assert.equal(st.mailboxPauses!.length, MAX_MAILBOX_PAUSES);
    assert.equal(st.mailboxPauses![0]!.until, now + 30_000 + 3 * MAX_MAILBOX_PAUSES - 1, 'the latest-ending are kept');
  });

  test('a JSON batch costs its requests against a tenant budget', () => {
    assert.equal(batchSize('https://g/v1.0/$batch', JSON.stringify({ requests: [{}, {}, {}] })), 3);
    assert.equal(batchSize('https://g/v1.0/users', undefined), 1);
  });
});

describe('budget rows in Table Storage (Azurite), seen by every process', () => {
  let storage: TestStorage;
  before(async () => {
    storage = await startTestStorage();
  });
  after(async () => {
    await storage?.stop();
  });
  const ledger = (scope: string) => new GraphBudgetLedger(storage.tables, 'unitgraphbudget', scope);

  test('concurrent writers lose no update (If-Match, read again on conflict)', async () => {
    const writers = [ledger('t1'), ledger('t1'), ledger('t1')];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        writers[i % 3]!.update('tenant', (s) => ({ next: { ...s, grants: [...s.grants, { id: `w:${i}`, at: Date.now(), n: 1 }] }, result: undefined })),
      ),
    );
    assert.equal((await ledger('t1').read('tenant')).grants.length, 30);
  });

  test("a dead holder's slots come back after its lease, to a process waiting for them", async () => {
    const l = ledger('t2');
    // A process took the whole cap and died (no heartbeat renews its lease).
    const deadUntil = Date.now() + 1500;
    await l.update('tenant', (s) => ({ next: { ...s, holders: [{ id: 'otherhost-1-abcd', slots: 4, want: 4, expires: deadUntil }] }, result: undefined }));
    const gates = new SharedTenantGates({ ledger: l, tenantConcurrency: 4, slotTtlMs: 3000, heartbeatMs: 500 });
    const release = await gates.enter(undefined);
    assert.ok(Date.now() >= deadUntil, 'no slot was handed out while the dead lease was valid');
    release();
    const row = await l.read('tenant');
    assert.ok(!row.holders.some((h) => h.id === 'otherhost-1-abcd' && h.expires > Date.now()));
    assert.ok(row.holders.some((h) => h.id === gates.holder && h.slots >= 1));
    await gates.close();
    assert.equal((await l.read('tenant')).holders.filter((h) => h.id === gates.holder).length, 0, 'close gives the slots back');
  });

  test('a "slow down" pause one process received holds in the other process too', async () => {
    const a = new SharedTenantGates({ ledger: ledger('t3'), tenantConcurrency: 4 });
    const b = new SharedTenantGates({ ledger: ledger('t3'), tenantConcurrency: 4 });
    (await a.enter(undefined))();
    const until = Date.now() + 1500;
    a.pause(undefined, 1500);
    await a.pending;
    (await b.enter(undefined))();
    assert.ok(Date.now() >= until - 5, 'b waited for the pause a was told about');
    // A mailbox's pause is written to that mailbox's row and obeyed by the next process using it.
    const c = new SharedTenantGates({ ledger: ledger('t3'), tenantConcurrency: 4 });
    const mbUntil = Date.now() + 1000;
    a.pause('users/x', 1000);
    await a.pending;
    (await c.enter('users/x'))();
    assert.ok(Date.now() >= mbUntil - 5, 'c waited for the mailbox pause');
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  test('two processes sharing a tenant rate take no more than its budget per window', async () => {
    const rate = { budget: 40, windowMs: 2000 };
    const p = [0, 1].map(() => new SharedTenantGates({ ledger: ledger('t4'), tenantConcurrency: 8, tenantRate: rate }));
    const sent: number[] = [];
    const started = Date.now();
    await sendFromEach(p, undefined, 60, sent);
    assertWithinWindows(sent, rate);
    assert.ok(Date.now() - started >= rate.windowMs, '120 requests at 40 per window need more than one window');
    await Promise.all(p.map((g) => g.close()));
  });

  test("a mailbox's first requests go out on its allowance, without a ledger sync; the ledger learns them at the next sync", async () => {
    const budget = { concurrency: 4, budget: 10_000, windowMs: 600_000 };
    const allowance = mailboxAllowance(budget.budget);
    assert.equal(allowance, 50);
    const l = ledger('t5');
    const g = new SharedTenantGates({ ledger: l, tenantConcurrency: 4, mailboxBudget: budget });
    for (let i = 0; i < 3; i++) (await g.enter('users/a'))();
    assert.equal(g.syncsBy.mailbox ?? 0, 0, 'an unchanged unit (a few requests) costs no mailbox row sync');
    // A busy mailbox moves to synced grants once three quarters of the allowance are gone, and tells what it sent.
    for (let i = 0; i < 60; i++) (await g.enter('users/a'))();
    await new Promise((r) => setTimeout(r, 200));
    assert.ok((g.syncsBy.mailbox ?? 0) >= 1);
    const key = `mb-${createHash('sha256').update('users/a').digest('hex').slice(0, 32)}`;
    const row = await l.read(key);
    const counted = row.grants.reduce((a, x) => a + x.n, 0);
    assert.ok(counted >= 38, `the ledger counts the allowance's requests too (${counted})`);
    await g.close();
  });

  test('processes starting on their allowance together stay inside a mailbox budget per window', async () => {
    const budget = { concurrency: 4, budget: 1600, windowMs: 2000 };
    assert.equal(mailboxAllowance(budget.budget), 8);
    const p = [0, 1, 2].map(() => new SharedTenantGates({ ledger: ledger('t6'), tenantConcurrency: 12, mailboxBudget: budget }));
    const sent: number[] = [];
    const started = Date.now();
    await sendFromEach(p, 'users/b', 700, sent);
    assertWithinWindows(sent, budget);
    assert.ok(Date.now() - started >= budget.windowMs, '2,100 requests at 1,600 per window need more than one window');
    await Promise.all(p.map((g) => g.close()));
  });
});
