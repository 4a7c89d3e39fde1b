import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchUsers } from '../../../shared/m365/user';

const users = [
  { id: 'AAA-1', userPrincipalName: 'Adele@Contoso.example' },
  { id: 'bbb-2', userPrincipalName: 'diego@contoso.example' },
];

test('users match by id or UPN, case-insensitively; no filter means everyone, an empty filter means no one', () => {
  assert.deepEqual(matchUsers(users, 'adele@contoso.EXAMPLE').map((u) => u.id), ['AAA-1']);
  assert.deepEqual(matchUsers(users, 'BBB-2').map((u) => u.id), ['bbb-2']);
  assert.equal(matchUsers(users).length, 2);
  assert.deepEqual(matchUsers(users, ''), []);
  assert.deepEqual(matchUsers(users, 'nobody'), []);
});
