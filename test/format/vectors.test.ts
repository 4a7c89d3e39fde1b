import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { deriveKeyFromPassword, deriveSubkey, LocalKeyProvider, PrivateKey, sealToPublicKey, unwrapEnvelope, wrapEnvelope } from '../../shared/crypto';
import { deriveWriteKeys, openMasterSecret, openPrivateKey } from '../../shared/crypto/keyring';
import { Catalog, partitionToken, itemToken, changeToken } from '../../shared/repo/catalog';
import type { Repository } from '../../shared/repo/repository';
import { chunkId, openChunk, sealChunk } from '../../shared/repo/chunkCodec';
import { Chunker, gearTable } from '../../shared/repo/chunker';
import { BloomFilter } from '../../shared/repo/bloom';
import { bloomDeltaName, decodeBloomDelta, encodeBloomDelta } from '../../shared/repo/bloomDelta';
import { forgottenMarker } from '../../shared/repo/forget';
import { generationEnd } from '../../shared/repo/packLocks';
import { endMac, macNumber, macValid, rowMac, withMac } from '../../shared/repo/rowMac';
import { decodeItem, encodeItemRows, joinPayload, openRunKey, splitPayload } from '../../shared/repo/itemRow';
import { decodePackIndex, encodeEntries, encodePackIndex, packTail, readPackTail, type PackEntry } from '../../shared/repo/packFormat';
import { repositoryLayout, packBlobName, packIndexBlobName, catalogBlobName, lockBlobName, BLOOM_BLOB, OPEN_END } from '../../shared/repo/layout';
import { bloomDeltaOpen, boxOpen, envelopeOpen, fixedBytes, gcmOpen, rowMacInput, sha256, x25519PublicOf, type TypedRow } from './spec';
import { SUBKEYS, toProductRow, splitRows } from './vectors';
import { SOURCE_ROOT, VECTORS_FILE } from './paths';

/**
 * The format is pinned: every vector in test/format/vectors.json (published in
 * docs/repository-format.md) is recomputed, or opened, by the product code. A changed HKDF info,
 * magic, layout, AAD or MAC input fails here even when every round-trip suite stays green.
 * The vectors are never regenerated to make this pass; a deliberate change is a new format version.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const V = JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as any;
const h = (s: string) => Buffer.from(s, 'hex');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const master = h(V.masterSecret);
const key = (name: keyof typeof SUBKEYS) => h(V.subkeys.keys[name].key);
const repoPrivate = h(V.x25519.privateKey);
const repoPublic = h(V.x25519.publicKey);

function withLocalKeyFile<T>(fn: (provider: LocalKeyProvider) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'm365b-vectors-'));
  const path = join(dir, 'local.key');
  writeFileSync(path, V.localKeyFile.file);
  return fn(LocalKeyProvider.open(path)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe('format vectors: keys', () => {
  test('Argon2id (version 0x13) of the password', async () => {
    for (const a of V.argon2id) {
      assert.equal(a.version, 0x13);
      assert.equal(hex(Buffer.from(a.password, 'utf8')), a.passwordUtf8);
      const out = await deriveKeyFromPassword(a.password, h(a.salt), { memoryKiB: a.memoryKiB, iterations: a.iterations, parallelism: a.parallelism });
      assert.equal(hex(out), a.output, `m=${a.memoryKiB} t=${a.iterations} p=${a.parallelism}`);
    }
  });

  test('HKDF sub-keys of the master secret, with their info strings', () => {
    const keys = deriveWriteKeys(master, repoPublic);
    const { publicKey, ...secret } = keys;
    assert.deepEqual(publicKey, repoPublic);
    assert.deepEqual(Object.keys(secret).sort(), Object.keys(V.subkeys.keys).sort(), 'every derived key has a vector');
    for (const [name, v] of Object.entries(V.subkeys.keys) as [keyof typeof SUBKEYS, { info: string; key: string }][]) {
      assert.equal(v.info, `m365-backup/v1/${SUBKEYS[name]}`);
      assert.equal(hex(secret[name]), v.key, name);
      assert.equal(hex(deriveSubkey(master, SUBKEYS[name])), v.key, name);
    }
  });

  test('X25519 public key of the private key', () => {
    assert.equal(hex(x25519PublicOf(repoPrivate)), V.x25519.publicKey);
    assert.deepEqual(new PrivateKey(repoPrivate, repoPublic).raw(), repoPrivate);
  });

  test('sealed box: the product opens the vectors and writes what the spec opens', () => {
    const pk = new PrivateKey(repoPrivate, repoPublic);
    for (const v of V.sealedBox.vectors) {
      assert.equal(hex(h(v.sealed).subarray(0, 32)), v.ephemeralPublicKey);
      assert.equal(hex(pk.open(h(v.sealed), v.purpose, 'vector')), v.plaintext);
      const fresh = sealToPublicKey(repoPublic, h(v.plaintext), v.purpose);
      assert.equal(hex(boxOpen(repoPrivate, fresh, v.purpose)), v.plaintext);
    }
    assert.equal(hex(openRunKey(pk, V.runKey.keyId, h(V.runKey.sealed))), V.runKey.key);
  });

  test('local key file id, envelopes and the private-key record', async () => {
    await withLocalKeyFile(async (provider) => {
      const wrapped = await provider.wrapKey(Buffer.alloc(32));
      assert.equal(wrapped.keyId, V.localKeyFile.keyId);
      for (const e of V.envelopes) {
        assert.equal(hex(await unwrapEnvelope(provider, h(e.envelope), e.purpose, 'vector')), e.payload, e.purpose);
        const fresh = await wrapEnvelope(provider, h(e.payload), e.purpose);
        const fileKey = Buffer.from(JSON.parse(V.localKeyFile.file).key, 'base64');
        assert.deepEqual(envelopeOpen(fileKey, fresh, e.purpose), { keyId: V.localKeyFile.keyId, payload: h(e.payload) });
      }
      assert.deepEqual(await openMasterSecret(provider, h(V.envelopes[0].envelope)), master);
      const r = V.privateKeyRecord;
      const record = { salt: h(r.salt), argon2: { memoryKiB: r.memoryKiB, iterations: r.iterations, parallelism: r.parallelism }, envelope: h(r.envelope) };
      const opened = await openPrivateKey(provider, record, r.password, repoPublic);
      assert.equal(hex(opened.raw()), r.privateKey);
    });
  });
});

describe('format vectors: names and tokens', () => {
  test('layout names', () => {
    const l = repositoryLayout(V.layout.repository);
    assert.deepEqual([l.packContainer, l.metaContainer], V.layout.containers);
    assert.deepEqual([l.configTable, l.chunkTable, l.packTable, l.snapshotTable, l.itemTable], V.layout.tables);
    assert.equal(packBlobName(V.pack.packId), V.layout.packBlob);
    assert.equal(packIndexBlobName(V.pack.packId), V.layout.packIndexBlob);
    assert.equal(catalogBlobName(V.tokens.partition[0].token, 3), V.layout.catalogBlob);
    assert.equal(BLOOM_BLOB, V.layout.bloomBlob);
    assert.equal(lockBlobName(V.tokens.partition[0].token), V.layout.lockBlob);
    assert.equal(OPEN_END, V.layout.openEnd);
  });

  test('partition, item, group and change tokens', () => {
    const tokenKey = key('tokenKey');
    assert.equal(hex(tokenKey), V.tokens.tokenKey);
    for (const p of V.tokens.partition) assert.equal(partitionToken(tokenKey, p.name), p.token, p.name);
    const catalog = new Catalog({ keys: { tokenKey } } as unknown as Repository, V.tokens.partition[0].name);
    for (const i of V.tokens.item) {
      assert.equal(itemToken(tokenKey, i.partitionToken, i.id), i.token, i.id);
      assert.equal(catalog.itemToken(i.id), i.token);
      assert.equal(catalog.itemPartition(i.token), i.itemPartitionKey);
    }
    for (const g of V.tokens.group) assert.equal(catalog.groupToken(g.scope), g.token, g.scope);
    for (const c of V.tokens.change) {
      const facts = (c.facts as (string | number | null)[]).map((f) => (f === null ? undefined : f));
      assert.equal(changeToken(tokenKey, ...facts), c.token);
      assert.equal(catalog.changeToken(...facts), c.token);
    }
  });

  test('chunk IDs', () => {
    for (const c of V.chunkIds.vectors) assert.equal(hex(chunkId(h(V.chunkIds.chunkIdKey), h(c.data))), c.id);
  });
});

describe('format vectors: chunks and packs', () => {
  const packKey = h(V.sealedChunks.packKey);

  test('sealed chunks (flag 0 raw, flag 1 raw DEFLATE): the product opens them and writes what the spec opens', () => {
    for (const c of V.sealedChunks.vectors) {
      assert.equal(hex(openChunk(packKey, h(c.chunkId), h(c.sealed), 'vector')), c.data);
      const fresh = sealChunk(packKey, h(c.chunkId), h(c.data));
      const plain = gcmOpen(packKey, fresh, h(c.chunkId));
      assert.equal(plain[0], c.flag, 'the writer compresses the text vector and not the random one');
      assert.equal(hex(plain[0] === 1 ? inflateRawSync(plain.subarray(1)) : plain.subarray(1)), c.data);
    }
  });

  test('pack blob: trailer, sealed header, sealed pack key', () => {
    const p = V.pack;
    const blob = h(p.blob);
    assert.equal(hex(sha256(blob)), p.sha256);
    const tail = readPackTail(blob, p.packId);
    assert.equal(hex(tail.sealedKey), p.sealedPackKey);
    const opened = new PrivateKey(repoPrivate, repoPublic).open(tail.sealedKey, `pack-key:${p.packId}`, 'pack key');
    assert.equal(hex(opened), p.packKey);
    const entries = tail.openEntries(opened);
    assert.deepEqual(entries.map((e) => ({ chunkId: hex(e.chunkId), offset: e.offset, length: e.length, rawLength: e.rawLength })), p.entries);
    for (const [i, e] of entries.entries()) assert.equal(hex(openChunk(opened, e.chunkId, blob.subarray(e.offset, e.offset + e.length), 'chunk')), V.sealedChunks.vectors[i].data);

    const productEntries: PackEntry[] = p.entries.map((e: { chunkId: string; offset: number; length: number; rawLength: number }) => ({ ...e, chunkId: h(e.chunkId) }));
    assert.equal(hex(encodeEntries(productEntries)), p.headerPlaintext);
    const fresh = packTail(opened, p.packId, productEntries, h(p.sealedPackKey));
    assert.equal(hex(fresh.subarray(fresh.length - 16)), p.trailer, 'trailer (version, magic) unchanged');
    const keyEnd = fresh.length - 16;
    assert.equal(hex(fresh.subarray(keyEnd - h(p.sealedPackKey).length, keyEnd)), p.sealedPackKey);
    const header = fresh.subarray(0, keyEnd - h(p.sealedPackKey).length);
    assert.equal(hex(gcmOpen(opened, header, Buffer.concat([Buffer.from('pack-header'), h(p.packId)]))), p.headerPlaintext);
  });

  test('pack-index blob', () => {
    const v = V.packIndex;
    const indexKey = h(v.indexKey);
    assert.equal(hex(indexKey), V.subkeys.keys.indexKey.key);
    const d = decodePackIndex(indexKey, v.packId, h(v.blob));
    assert.equal(d.size, h(V.pack.blob).length);
    assert.equal(hex(d.sha256), V.pack.sha256);
    assert.equal(hex(d.sealedKey), V.pack.sealedPackKey);
    assert.deepEqual(d.entries.map((e) => hex(e.chunkId)), V.pack.entries.map((e: { chunkId: string }) => e.chunkId));
    const fresh = encodePackIndex(indexKey, d);
    assert.equal(hex(gcmOpen(indexKey, fresh, Buffer.concat([Buffer.from('pack-index'), h(v.packId)]))), v.bodyPlaintext);
  });
});

describe('format vectors: rows', () => {
  const macKey = key('macKey');

  test('row MAC input and MAC for every property type; numbers are decimal safe integers', () => {
    for (const r of V.rowMacs.rows) {
      const typed: TypedRow = { PartitionKey: r.PartitionKey, RowKey: r.RowKey, properties: r.properties };
      assert.equal(hex(rowMacInput(r.table, typed)), r.macInput, 'the spec reproduces the published MAC input');
      const row = toProductRow(typed);
      assert.equal(hex(rowMac(macKey, r.table, row)), Buffer.from(r.properties.mac.value, 'base64').toString('hex'));
      assert.ok(macValid(macKey, r.table, row));
      assert.deepEqual(withMac(macKey, r.table, row).mac, row.mac);
    }
    assert.equal(macNumber('x', 0), '0');
    assert.equal(macNumber('x', -0), '0');
    assert.equal(macNumber('x', -5), '-5');
    assert.equal(macNumber('x', 2 ** 53 - 1), '9007199254740991');
    assert.equal(macNumber('x', 3_000_000_000), '3000000000');
    for (const bad of [1.5, NaN, Infinity, 2 ** 53, -(2 ** 53), 1e21])
      assert.throws(() => withMac(macKey, 'x', { partitionKey: 'p', rowKey: 'r', v: bad }), /MACed number must be an integer/, String(bad));
    assert.throws(() => withMac(macKey, 'x', { partitionKey: 'p', rowKey: 'r', v: new Date(0) }), /type the row MAC does not define/);
    const good = withMac(macKey, 'x', { partitionKey: 'p', rowKey: 'r', v: 1 });
    assert.equal(macValid(macKey, 'x', { ...good, v: 1.5 }), false, 'a fraction read back is "altered", not a crash');
  });

  test('item row: payload layout, sealed metadata, MAC and end MAC', () => {
    const v = V.itemRow;
    const typed: TypedRow = v.row;
    assert.equal(hex(rowMacInput(v.table, typed)), v.row.macInput);
    const row = toProductRow(typed);
    assert.ok(macValid(macKey, v.table, row));
    const t = row.t as number;
    assert.equal(hex(endMac(macKey, v.table, row.partitionKey, row.rowKey, t, row.mac as Buffer)), Buffer.from(v.row.properties.tm.value, 'base64').toString('hex'));
    const runKeys = new Map([[V.runKey.keyId, h(V.runKey.key)]]);
    const decoded = decodeItem([{ ...row, etag: '' }], runKeys);
    assert.deepEqual(decoded.meta, v.meta);
    assert.equal(hex(decoded.chunkIds), v.chunkIds);
    assert.equal(decoded.from, 1);
    assert.equal(decoded.to, OPEN_END);
    const split = splitPayload(joinPayload([row]), 'payload');
    assert.equal(hex(split.sealedMeta), v.sealedMeta);

    const written = encodeItemRows(v.table, macKey, row.partitionKey, 1, { keyId: V.runKey.keyId, key: h(V.runKey.key) }, {
      itemToken: row.rowKey.split('.')[0]!,
      changeToken: String(row.ct),
      meta: v.meta,
      chunkIds: h(v.chunkIds),
    });
    assert.equal(written.length, 1);
    const w = written[0]!;
    assert.deepEqual(Object.keys(w).sort(), Object.keys(row).sort(), 'same properties');
    for (const k of ['partitionKey', 'rowKey', 'f', 't', 'ct', 'k', 'n']) assert.deepEqual(w[k], row[k], k);
    const wSplit = splitPayload(joinPayload([w]), 'payload');
    assert.equal(hex(wSplit.chunkIds), v.chunkIds);
    assert.deepEqual(JSON.parse(gcmOpen(h(V.runKey.key), wSplit.sealedMeta, Buffer.from(`${w.partitionKey}/${w.rowKey}`)).toString('utf8')), v.meta);
  });

  test('item row continuation: 15 properties of 60,000 bytes a row, then "~1" rows', () => {
    const v = V.itemContinuation;
    const ids = fixedBytes('continuation chunk ids', 32 * v.chunkIds.count);
    assert.equal(hex(sha256(ids)), v.chunkIds.sha256);
    const sealedMeta = h(v.sealedMeta);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(sealedMeta.length, 0);
    const payload = Buffer.concat([head, sealedMeta, ids]);
    assert.equal(payload.length, v.payloadLength);
    assert.equal(hex(sha256(payload)), v.payloadSha256);
    const first = v.rows[0];
    const headProps = { ct: first.properties.ct, g: first.properties.g, k: first.properties.k };
    const rebuilt = splitRows(macKey, v.table, first.PartitionKey, first.RowKey, first.properties.f.value, headProps, payload);
    assert.deepEqual(rebuilt, v.rows, 'the spec split reproduces the published rows');

    // Reassemble full rows (binary properties from the payload) and let the product read them.
    const perRow = 15 * 60_000;
    const full = v.rows.map((r: { PartitionKey: string; RowKey: string; properties: TypedRow['properties'] }, i: number) => {
      const row = toProductRow({ PartitionKey: r.PartitionKey, RowKey: r.RowKey, properties: r.properties });
      const part = payload.subarray(i * perRow, (i + 1) * perRow);
      for (let j = 0; j * 60_000 < part.length; j++) row[`d${j}`] = part.subarray(j * 60_000, (j + 1) * 60_000);
      return { ...row, etag: '' };
    });
    for (const r of full) assert.ok(macValid(macKey, v.table, r), r.rowKey);
    const decoded = decodeItem(full, new Map([[V.runKey.keyId, h(V.runKey.key)]]));
    assert.deepEqual(decoded.meta, v.meta);
    assert.ok(decoded.chunkIds.equals(ids));

    const written = encodeItemRows(v.table, macKey, first.PartitionKey, first.properties.f.value, { keyId: V.runKey.keyId, key: h(V.runKey.key) }, {
      itemToken: first.RowKey.split('.')[0],
      changeToken: first.properties.ct.value,
      groupToken: first.properties.g.value,
      meta: v.meta,
      chunkIds: ids,
    });
    assert.deepEqual(written.map((r) => r.rowKey), v.rows.map((r: { RowKey: string }) => r.RowKey));
    for (const [i, w] of written.entries()) {
      assert.deepEqual(Object.keys(w).filter((k) => /^d\d+$/.test(k)), v.rows[i].d.map((d: { name: string }) => d.name));
      for (const d of v.rows[i].d) assert.equal((w[d.name] as Buffer).length, d.length);
      for (const [k, p] of Object.entries(v.rows[i].properties as TypedRow['properties'])) if (k !== 'mac' && k !== 'tm') assert.deepEqual(w[k], p.value, k);
    }
    assert.ok(splitPayload(joinPayload(written), 'payload').chunkIds.equals(ids));
  });
});

describe('format vectors: Bloom filter and chunker', () => {
  test('Bloom filter: positions, bit order (bit p = byte p>>3, mask 1<<(p&7)) and blob', () => {
    const b = V.bloom;
    const macKey = h(b.macKey);
    const filter = new BloomFilter(0, b.k, new Uint8Array(b.bitCount / 8));
    for (const id of b.ids) filter.add(h(id));
    assert.equal(hex(filter.encode(macKey)), b.blob);
    const bits = h(b.blob).subarray(24, 24 + b.bitCount / 8);
    const expected = new Uint8Array(b.bitCount / 8);
    for (const ps of b.positions) for (const p of ps) expected[p >> 3]! |= 1 << (p & 7);
    assert.deepEqual(new Uint8Array(bits), expected);
    const decoded = BloomFilter.decode(macKey, h(b.blob));
    assert.ok(decoded);
    for (const id of b.ids) assert.ok(decoded.mightContain(h(id)));
    assert.equal(decoded.count, b.ids.length);
  });

  test('Bloom delta: name, blob (product and spec agree), tamper detected', () => {
    const d = V.bloomDelta;
    const macKey = h(d.macKey);
    assert.equal(bloomDeltaName(d.name.time, h(d.name.random)), d.name.value);
    assert.equal(d.name.value, `index/bloom.d/1700000000123-${d.name.random}`);
    const ids = d.ids.map(h);
    assert.equal(hex(encodeBloomDelta(macKey, ids)), d.blob);
    assert.deepEqual(bloomDeltaOpen(macKey, h(d.blob)).map(hex), d.ids);
    assert.deepEqual(decodeBloomDelta(macKey, h(d.blob))!.map(hex), d.ids);
    const bad = h(d.blob);
    bad[20]! ^= 1;
    assert.equal(decodeBloomDelta(macKey, bad), undefined);
  });

  test('forgotten marker: name and body (HMAC-SHA256 by the spec, recomputed here)', () => {
    const f = V.forgottenMarker;
    assert.equal(f.name, `forgotten/${f.partition}/${String(f.seq).padStart(10, '0')}`);
    const spec = createHmac('sha256', h(f.macKey)).update(Buffer.concat([Buffer.from('forgotten\0'), Buffer.from(f.partition), Buffer.from('\0'), Buffer.from(String(f.seq))])).digest();
    assert.equal(hex(spec), f.body);
    assert.equal(hex(forgottenMarker(h(f.macKey), f.partition, f.seq)), f.body);
  });

  test('immutability generation ends (the rule, recomputed here)', () => {
    for (const c of V.lockGeneration.cases) {
      const g = c.generationDays * 86_400_000;
      assert.equal(Math.ceil((c.now + c.days * 86_400_000) / g) * g, c.until);
      assert.equal(generationEnd({ days: c.days, generationDays: c.generationDays }, c.now), c.until);
    }
  });

  test('FastCDC gear table and cut points', () => {
    const c = V.chunker;
    const gearKey = h(c.gearKey);
    assert.equal(c.gearKey, V.subkeys.keys.gearKey.key);
    assert.deepEqual(Array.from(gearTable(gearKey)), c.gear);
    const input = fixedBytes('chunker input', 1 << 20);
    assert.equal(hex(sha256(input)), c.input.sha256);
    const chunker = new Chunker(gearKey, c.params);
    const cuts: number[] = [];
    for (let pos = 0; pos < input.length; ) {
      const len = chunker.cut(input, pos, input.length, true);
      cuts.push(len);
      pos += len;
    }
    assert.deepEqual(cuts, c.cuts);
  });
});

describe('format vectors: the published selection', () => {
  test('every value quoted in docs/repository-format.md section 12 is in vectors.json', () => {
    const doc = readFileSync(join(SOURCE_ROOT, 'docs', 'repository-format.md'), 'utf8');
    const start = doc.indexOf('## 12. Known-answer vectors');
    assert.ok(start > 0, 'section 12 exists');
    const block = doc.slice(doc.indexOf('```', start) + 3, doc.indexOf('```', doc.indexOf('```', start) + 3));
    const json = readFileSync(VECTORS_FILE, 'utf8');
    const quoted = block.match(/\b[0-9a-f]{16,}\b/g) ?? [];
    assert.ok(quoted.length > 20);
    for (const q of quoted) assert.ok(json.includes(q) || json.includes(Buffer.from(q, 'hex').toString('base64')), `${q} is a published vector`);
    const gear = block.match(/gear\[0\.\.7\].*-> (.*)/)![1]!.trim().split(/\s+/).map(Number);
    assert.deepEqual(gear, V.chunker.gear.slice(0, 8));
    assert.ok(block.includes(`${V.chunker.cuts.length} chunks, first ${V.chunker.cuts.slice(0, 10).join(' ')}`));
    assert.ok(block.includes(`-> ${V.bloom.positions[0].join(' ')}`));
  });
});
