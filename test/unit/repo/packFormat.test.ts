import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodePackIndex, encodePackIndex, packTail, readPackTail, type PackEntry } from '../../../shared/repo/packFormat';
import { openChunk, sealChunk, chunkId } from '../../../shared/repo/chunkCodec';
import { generateKeyPair, PrivateKey, sealToPublicKey } from '../../../shared/crypto';

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

