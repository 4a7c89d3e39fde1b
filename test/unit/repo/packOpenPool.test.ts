import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkId, sealChunk } from '../../../shared/repo/chunkCodec';
import { PackOpenPool } from '../../../shared/repo/packOpenPool';

/** A pack range of sealed chunks as a restore downloads it: the plaintexts, IDs and positions. */
function makeRange(chunkIdKey: Buffer, packKey: Buffer, plains: Buffer[]) {
  const ids = plains.map((p) => chunkId(chunkIdKey, p));
  const sealed = plains.map((p, i) => sealChunk(packKey, ids[i]!, p));
  const offsets: number[] = [];
  let at = 0;
  for (const s of sealed) {
    offsets.push(at);
    at += s.length;
  }
  return { ids, sealed, offsets, lengths: sealed.map((s) => s.length), rawLengths: plains.map((p) => p.length) };
}

describe('pack-opening workers', () => {
  // Small (copied into one shared buffer) and large (moved as the cipher wrote them), raw and deflated.
  const plains = [randomBytes(100), Buffer.from('text '.repeat(300_000)), randomBytes(3 * 1024 * 1024), Buffer.from('x'.repeat(2000)), randomBytes(5000)];

  for (const workers of [0, 1]) {
    test(`plaintexts come back byte-identical; a damaged chunk fails alone with its reason (${workers} workers)`, async () => {
      const chunkIdKey = randomBytes(32);
      const packKey = randomBytes(32);
      const r = makeRange(chunkIdKey, packKey, plains);
      // A chunk sealed under the right key and ID whose plaintext is another's: it opens but does not match.
      const impostor = sealChunk(packKey, r.ids[0]!, randomBytes(100));
      const flipped = Buffer.from(r.sealed[2]!);
      flipped[flipped.length >> 1]! ^= 1;
      const parts = [r.sealed[0]!, r.sealed[1]!, flipped, r.sealed[3]!, r.sealed[4]!, impostor];
      const offsets = [...r.offsets, r.offsets[4]! + r.lengths[4]!];
      const pool = new PackOpenPool(chunkIdKey, workers);
      try {
        // The last raw length is a wrong hint: it must not change the plaintext.
        const opened = await pool.open('p1', packKey, Buffer.concat(parts), { ids: [...r.ids, r.ids[0]!], offsets, lengths: [...r.lengths, impostor.length], rawLengths: [...r.rawLengths.slice(0, 4), 7, 100] });
        assert.equal(opened.length, 6);
        for (const i of [0, 1, 3, 4]) assert.ok(Buffer.isBuffer(opened[i]) && opened[i]!.equals(plains[i]!), `chunk ${i}`);
        assert.match(opened[2] as string, /failed authentication/);
        assert.match(opened[5] as string, /does not match its ID/);
        // Another job on the same pool: earlier plaintexts stay intact (their memory moved, not reused).
        const again = await pool.open('p1', packKey, Buffer.concat(r.sealed), r);
        again.forEach((o, i) => assert.ok(Buffer.isBuffer(o) && o.equals(plains[i]!)));
        for (const i of [0, 1, 3, 4]) assert.ok((opened[i] as Buffer).equals(plains[i]!));
      } finally {
        await pool.close();
      }
    });
  }

  for (const workers of [0, 1]) {
    test(`chunks are written where they were opened; a refused file fails only its targets (${workers} workers)`, async () => {
      const chunkIdKey = randomBytes(32);
      const packKey = randomBytes(32);
      const r = makeRange(chunkIdKey, packKey, plains);
      const dir = mkdtempSync(join(tmpdir(), 'pack-write-'));
      const pool = new PackOpenPool(chunkIdKey, workers);
      try {
        const joined = join(dir, 'joined');
        writeFileSync(joined, '');
        const flipped = Buffer.concat(r.sealed);
        flipped[r.offsets[4]! + 40]! ^= 1;
        const positions = [0, plains[0]!.length, plains[0]!.length + plains[1]!.length];
        const written = await pool.openAndWrite('p1', packKey, flipped, r, [
          [{ path: joined, position: positions[0]!, whole: false }],
          [{ path: joined, position: positions[1]!, whole: false }, { path: join(dir, 'missing', 'x'), position: 0, whole: true }],
          [{ path: joined, position: positions[2]!, whole: false }],
          [{ path: join(dir, 'whole'), position: 0, whole: true }],
          [{ path: join(dir, 'damaged'), position: 0, whole: true }],
        ]);
        assert.ok(readFileSync(joined).equals(Buffer.concat(plains.slice(0, 3))));
        assert.ok(readFileSync(join(dir, 'whole')).equals(plains[3]!));
        assert.deepEqual(written.slice(0, 4).map((w) => (typeof w === 'string' ? w : w.bytes)), plains.slice(0, 4).map((p) => p.length));
        assert.deepEqual(typeof written[1] === 'object' && written[1].failures, [{ path: join(dir, 'missing', 'x'), reason: 'ENOENT' }]);
        assert.match(written[4] as string, /failed authentication/);
      } finally {
        await pool.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
