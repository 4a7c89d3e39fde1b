import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { QuickXorHash } from '../../shared/graph/quickXorHash';
import { retryAfterMs } from '../../shared/graph/throttlingMiddleware';
import { mailboxOf } from '../../shared/graph/gates';

test('quickXorHash matches published test vectors (rclone) and is the same however the input is split', () => {
  const vectors: [string, string][] = [
    ['', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='],
    ['Sg==', 'SgAAAAAAAAAAAAAAAQAAAAAAAAA='],
    ['tbQ=', 'taAFAAAAAAAAAAAAAgAAAAAAAAA='],
    ['0pZP', '0rDEEwAAAAAAAAAAAwAAAAAAAAA='],
    ['jRRDVA==', 'jaDAEKgAAAAAAAAABAAAAAAAAAA='],
    ['eAV52qE=', 'eChAHrQRCgAAAAAABQAAAAAAAAA='],
    ['luBZlaT6', 'lgBHFipBCn0AAAAABgAAAAAAAAA='],
    ['qaApEj66lw==', 'qQBFCiTgA11cAgAABwAAAAAAAAA='],
    ['/aNzzCFPS/A=', '/RjFHJgRgicsAR4ACAAAAAAAAAA='],
  ];
  for (const [input, want] of vectors) assert.equal(QuickXorHash.of(Buffer.from(input, 'base64')), want, input);
  const data = randomBytes(1_000_003);
  const whole = QuickXorHash.of(data);
  for (const step of [1, 7, 159, 160, 161, 65_536]) {
    const h = new QuickXorHash();
    for (let o = 0; o < data.length; o += step) h.update(data.subarray(o, o + step));
    assert.equal(h.digestBase64(), whole, `split every ${step} bytes`);
  }
});

test('Retry-After is read as delta-seconds or as an HTTP date', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');
  assert.equal(retryAfterMs('3', now), 3000);
  assert.equal(retryAfterMs('0', now), 0);
  assert.equal(retryAfterMs('Sun, 22 Nov 2026 10:00:07 GMT', now), 7000);
  assert.equal(retryAfterMs('Sun, 22 Nov 2026 09:59:00 GMT', now), 0);
  assert.equal(retryAfterMs('soon', now), undefined);
  assert.equal(retryAfterMs(null, now), undefined);
});

test('Outlook requests are attributed to their mailbox; other workloads are not', () => {
  assert.equal(mailboxOf('https://graph.microsoft.com/v1.0/users/ABC/mailFolders/inbox/messages/delta'), 'users/abc');
  assert.equal(mailboxOf('https://graph.microsoft.com/v1.0/users/a%40b.com/messages/1/$value'), 'users/a@b.com');
  assert.equal(mailboxOf('https://graph.microsoft.com/v1.0/users/abc/calendarView/delta?x=1'), 'users/abc');
  assert.equal(mailboxOf('https://graph.microsoft.com/v1.0/users/abc/drive/root/delta'), undefined);
});
