import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mailboxOf, slotsFor, TenantGates } from '../../../shared/graph/gates';

test('Outlook requests are attributed to their mailbox; other workloads are not', () => {
  assert.equal(mailboxOf('https://graph.microsoft.com/v1.0/users/ABC/mailFolders/inbox/messages/delta'), 'users/abc');
  assert.equal(mailboxOf('https://graph.microsoft.com/v1.0/users/a%40b.com/messages/1/$value'), 'users/a@b.com');
  assert.equal(mailboxOf('https://graph.microsoft.com/v1.0/users/abc/calendarView/delta?x=1'), 'users/abc');
  assert.equal(mailboxOf('https://graph.microsoft.com/v1.0/users/abc/drive/root/delta'), undefined);
});

test('a JSON batch holds up to 4 tenant slots while in flight; singles fill the rest', async () => {
  assert.deepEqual([1, 2, 4, 20, 0].map(slotsFor), [1, 2, 4, 4, 1]);
  const gates = new TenantGates(undefined, 6);
  const batch = await gates.enter(undefined, 20); // 4 slots
  const single1 = await gates.enter(undefined, 1);
  const single2 = await gates.enter(undefined, 1);
  // The cap is full: a third single waits until a slot comes back.
  let third = false;
  const pending = gates.enter(undefined, 1).then((r) => ((third = true), r));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(third, false);
  batch();
  const r3 = await pending;
  assert.equal(third, true);
  // Two batches each needing 4 of 6 never deadlock holding half each: the second runs when the first ends.
  single1();
  single2();
  r3();
  const b1 = await gates.enter(undefined, 8);
  let second = false;
  const b2 = gates.enter(undefined, 8).then((r) => ((second = true), r));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(second, false);
  b1();
  (await b2)();
  assert.equal(second, true);
});
