import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BODY_PIECE_BYTES, blobBody, streamedBody } from '../../../shared/restore/m365/write/uploadBody';

const parts = [Buffer.alloc(3 * BODY_PIECE_BYTES + 5, 1), Buffer.alloc(7, 2), Buffer.alloc(BODY_PIECE_BYTES, 3)];
const whole = Buffer.concat(parts);

test('an upload body streamed from its parts comes in pieces of at most 64 KiB, the same bytes each time it is sent (a retry)', async () => {
  const body = streamedBody(parts);
  for (let send = 0; send < 2; send++) {
    const got: Uint8Array[] = [];
    for await (const p of body) got.push(p);
    assert.ok(got.every((p) => p.length > 0 && p.length <= BODY_PIECE_BYTES));
    assert.deepEqual(Buffer.concat(got), whole);
  }
});

test('a Blob body for the Graph SDK streams in pieces of at most 64 KiB (not one socket write of the whole file)', async () => {
  const blob = blobBody(parts);
  assert.equal(blob.size, whole.length);
  const got: Uint8Array[] = [];
  for await (const p of blob.stream() as unknown as AsyncIterable<Uint8Array>) got.push(p);
  assert.ok(got.length > 1 && got.every((p) => p.length <= BODY_PIECE_BYTES));
  assert.deepEqual(Buffer.concat(got), whole);
  assert.deepEqual(Buffer.from(await blob.arrayBuffer()), whole); // resendable
});
