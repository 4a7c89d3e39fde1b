import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mailboxOf } from '../../../shared/graph/gates';

test('Outlook requests are attributed to their mailbox; other workloads are not', () => {
  assert.equal(mailboxOf('https://graph.microsoft.com/v1.0/users/ABC/mailFolders/inbox/messages/delta'), 'users/abc');
  assert.equal(mailboxOf('https://graph.microsoft.com/v1.0/users/a%40b.com/messages/1/$value'), 'users/a@b.com');
  assert.equal(mailboxOf('https://graph.microsoft.com/v1.0/users/abc/calendarView/delta?x=1'), 'users/abc');
  assert.equal(mailboxOf('https://graph.microsoft.com/v1.0/users/abc/drive/root/delta'), undefined);
});
