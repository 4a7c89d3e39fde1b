import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { QuickXorHash } from '../../../shared/graph/quickXorHash';

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
