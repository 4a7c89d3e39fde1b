import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Chunker } from '../../shared/repo/chunker';
import { DEFAULT_CHUNKER } from '../../shared/repo/repository';
import { decodePackIndex, encodePackIndex, packTail, readPackTail, type PackEntry } from '../../shared/repo/packFormat';
import { openChunk, sealChunk, chunkId } from '../../shared/repo/chunkCodec';
import { generateKeyPair, PrivateKey, sealToPublicKey } from '../../shared/crypto';
import { macValid, withMac, endMac, macNumber } from '../../shared/repo/rowMac';
import { SeededRandom } from '../../shared/local';

function cutAll(chunker: Chunker, data: Buffer): number[] {
  const cuts: number[] = [];
  for (let pos = 0; pos < data.length; ) {
    const len = chunker.cut(data, pos, data.length, true);
    cuts.push(len);
    pos += len;
  }
  return cuts;
}

describe('chunker', () => {
  const key = randomBytes(32);
  const chunker = new Chunker(key, DEFAULT_CHUNKER);
  const data = new SeededRandom(1).bytes(64 * 1024 * 1024);

  test('chunks respect the size bounds and average about 1 MiB', () => {
    const cuts = cutAll(chunker, data);
    for (const c of cuts.slice(0, -1)) assert.ok(c >= DEFAULT_CHUNKER.minBytes && c <= DEFAULT_CHUNKER.maxBytes);
    const mean = data.length / cuts.length;
    assert.ok(mean > 0.9 * 1024 * 1024 && mean < 1.8 * 1024 * 1024, `mean ${mean}`);
  });

  test('boundaries resynchronise after an insertion and depend on the gear key', () => {
    const edited = Buffer.concat([data.subarray(0, 10_000_000), Buffer.from('inserted'), data.subarray(10_000_000)]);
    const ids = (buf: Buffer) => {
      const out = new Set<string>();
      let pos = 0;
      for (const c of cutAll(chunker, buf)) {
        out.add(chunkId(key, buf.subarray(pos, pos + c)).toString('hex'));
        pos += c;
      }
      return out;
    };
    const a = ids(data);
    const b = ids(edited);
    const fresh = [...b].filter((x) => !a.has(x)).length;
    assert.ok(fresh <= 2, `${fresh} new chunks after one insertion`);
    const other = new Chunker(randomBytes(32), DEFAULT_CHUNKER);
    assert.notDeepEqual(cutAll(other, data).slice(0, 5), cutAll(chunker, data).slice(0, 5));
  });
});

describe('packs', () => {
  test('a sealed chunk opens only with its key and ID; compressible data shrinks', () => {
    const packKey = randomBytes(32);
    const id = randomBytes(32);
    const text = Buffer.from('hello world '.repeat(10_000));
    const sealed = sealChunk(packKey, id, text);
    assert.ok(sealed.length < text.length / 5);
    assert.deepEqual(openChunk(packKey, id, sealed, 'chunk'), text);
    assert.throws(() => openChunk(packKey, randomBytes(32), sealed, 'chunk'), /failed authentication/);
  });

  test('pack tail and pack-index blob round-trip', () => {
    const pair = generateKeyPair();
    const packKey = randomBytes(32);
    const packId = randomBytes(16).toString('hex');
    const sealedKey = sealToPublicKey(pair.publicKey, packKey, `pack-key:${packId}`);
    const entries: PackEntry[] = [{ chunkId: randomBytes(32), offset: 0, length: 100, rawLength: 72 }];
    const pack = Buffer.concat([randomBytes(100), packTail(packKey, packId, entries, sealedKey)]);
    const tail = readPackTail(pack, packId);
    const opened = new PrivateKey(pair.privateKey, pair.publicKey).open(tail.sealedKey, `pack-key:${packId}`, 'pack key');
    assert.deepEqual(opened, packKey);
    assert.deepEqual(tail.openEntries(packKey), entries);
    const indexKey = randomBytes(32);
    const blob = encodePackIndex(indexKey, { packId, size: pack.length, sha256: randomBytes(32), sealedKey, entries });
    assert.deepEqual(decodePackIndex(indexKey, packId, blob).entries, entries);
    blob[20]! ^= 1;
    assert.throws(() => decodePackIndex(indexKey, packId, blob), /failed authentication/);
  });
});

describe('row MACs', () => {
  test('any changed field fails; ending a version is covered by its own MAC', () => {
    const key = randomBytes(32);
    const row = withMac(key, 'items', { partitionKey: 'p-1', rowKey: 'r', f: 1, t: 2147483647, d0: Buffer.from('payload') });
    assert.ok(macValid(key, 'items', row));
    assert.ok(!macValid(key, 'items', { ...row, f: 2 }));
    assert.ok(!macValid(key, 'items', { ...row, d0: Buffer.from('payloaD') }));
    assert.ok(!macValid(key, 'items', { ...row, t: 5 }));
    const ended = { ...row, t: 5, tm: endMac(key, 'items', 'p-1', 'r', 5, row.mac) };
    assert.ok(macValid(key, 'items', ended));
  });
});

describe('row MAC numbers (docs/repository-format.md, "Row MACs")', () => {
  test('a MACed number is a safe integer in decimal; anything else is refused before it is written', () => {
    assert.deepEqual([0, -0, 7, -5, 3_000_000_000, 2 ** 53 - 1].map((n) => macNumber('x', n)), ['0', '0', '7', '-5', '3000000000', '9007199254740991']);
    const key = randomBytes(32);
    for (const bad of [0.5, NaN, -Infinity, 2 ** 53, 1e21])
      assert.throws(() => withMac(key, 'items', { partitionKey: 'p', rowKey: 'r', size: bad }), RangeError, String(bad));
    assert.throws(() => withMac(key, 'items', { partitionKey: 'p', rowKey: 'r', f: 1, t: 1.5 }), RangeError, 'the end MAC too');
    const row = withMac(key, 'items', { partitionKey: 'p', rowKey: 'r', size: 3_000_000_000 });
    assert.ok(macValid(key, 'items', row));
    assert.equal(macValid(key, 'items', { ...row, size: 3_000_000_000.5 }), false, 'a fraction read back is altered, not a crash');
    assert.equal(macValid(key, 'items', { ...row, extra: new Date(0) }), false, 'so is a type no writer MACs');
  });
});

