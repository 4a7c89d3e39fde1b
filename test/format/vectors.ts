import { deflateRawSync } from 'node:zlib';
import { deriveKeyFromPassword, deriveSubkey, DEFAULT_ARGON2, TEST_ARGON2, type Argon2Params } from '../../shared/crypto';
import { Catalog, partitionToken, itemToken, changeToken } from '../../shared/repo/catalog';
import type { Repository } from '../../shared/repo/repository';
import { chunkId } from '../../shared/repo/chunkCodec';
import { gearTable, Chunker } from '../../shared/repo/chunker';
import { BloomFilter } from '../../shared/repo/bloom';
import { bloomDeltaName, encodeBloomDelta } from '../../shared/repo/bloomDelta';
import { forgottenMarker, forgottenMarkerName } from '../../shared/repo/forget';
import { generationEnd } from '../../shared/repo/packLocks';
import { rowMac } from '../../shared/repo/rowMac';
import { repositoryLayout, packBlobName, packIndexBlobName, catalogBlobName, lockBlobName, BLOOM_BLOB, OPEN_END, padSeq } from '../../shared/repo/layout';
import {
  boxSeal,
  endMacInput,
  envelopeSeal,
  fixedBytes,
  gcmSeal,
  hmacSha256,
  localKeyId,
  rowMacInput,
  sha256,
  x25519PublicOf,
  type TypedRow,
  type TypedValue,
} from './spec';

/**
 * Builds test/format/vectors.json (npm run make:format-vectors). Deterministic derivations are
 * computed by the product code as it is today; sealed layouts (which the product seals with random
 * nonces and ephemeral keys) are built by spec.ts with fixed nonces. The committed file is the
 * contract: vectors.test.ts recomputes or opens every vector with the product code.
 */

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const str = (value: string): TypedValue => ({ type: 'Edm.String', value });
const int = (value: number): TypedValue => ({ type: 'Edm.Int32', value });
const bin = (value: Uint8Array): TypedValue => ({ type: 'Edm.Binary', value: b64(value) });

export const SUBKEYS = { chunkIdKey: 'chunk-id', tokenKey: 'token', gearKey: 'gear', indexKey: 'pack-index', macKey: 'row-mac' } as const;
export const VECTOR_REPOSITORY = 'm365backup';
export const SMALL_CHUNKER = { minBytes: 256, avgBytes: 1024, maxBytes: 4096 };
export const CONTINUATION_CHUNKS = 30_000;

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

/** entries table: u32le count ‖ (chunkId(32) ‖ u32le offset ‖ u32le length ‖ u32le rawLength)*. */
function entryTable(entries: { chunkId: Buffer; offset: number; length: number; rawLength: number }[]): Buffer {
  return Buffer.concat([u32le(entries.length), ...entries.map((e) => Buffer.concat([e.chunkId, u32le(e.offset), u32le(e.length), u32le(e.rawLength)]))]);
}

export function signedRow(macKey: Buffer, table: string, row: TypedRow): TypedRow & { macInput: string } {
  const input = rowMacInput(table, row);
  const mac = hmacSha256(macKey, input);
  const out: TypedRow = { ...row, properties: { ...row.properties, mac: bin(mac) } };
  const t = row.properties.t;
  if (t && t.type === 'Edm.Int32') out.properties.tm = bin(hmacSha256(macKey, endMacInput(table, row.PartitionKey, row.RowKey, t.value, mac)));
  return { ...out, macInput: hex(input) };
}

export async function buildVectors(): Promise<Record<string, unknown>> {
  const layout = repositoryLayout(VECTOR_REPOSITORY);
  const password = 'correct horse battery staple ✓';
  const salt = fixedBytes('argon2 salt', 16);
  const argon2 = async (p: Argon2Params) => ({ password, passwordUtf8: hex(Buffer.from(password, 'utf8')), salt: hex(salt), version: 0x13, memoryKiB: p.memoryKiB, iterations: p.iterations, parallelism: p.parallelism, hashLength: 32, output: hex(await deriveKeyFromPassword(password, salt, p)) });
  const argonVectors = [await argon2(TEST_ARGON2), await argon2(DEFAULT_ARGON2)];
  const passwordKey = Buffer.from(argonVectors[0]!.output, 'hex');

  const master = fixedBytes('master secret', 32);
  const subkeys = Object.fromEntries(Object.entries(SUBKEYS).map(([name, purpose]) => [name, { info: `m365-backup/v1/${purpose}`, key: hex(deriveSubkey(master, purpose)) }]));
  const key = (name: keyof typeof SUBKEYS) => deriveSubkey(master, SUBKEYS[name]);
  const [chunkIdKey, tokenKey, gearKey, indexKey, macKey] = [key('chunkIdKey'), key('tokenKey'), key('gearKey'), key('indexKey'), key('macKey')];

  const repoPrivate = fixedBytes('repository private key', 32);
  const repoPublic = x25519PublicOf(repoPrivate);

  // Tokens.
  const partitions = ['default', 'm365/contoso/5d1f0a2e-0000-4000-8000-000000000001/mail', 'Ünïcødé machine'];
  const ptoken = partitionToken(tokenKey, partitions[0]!);
  const catalog = new Catalog({ keys: { tokenKey } } as unknown as Repository, partitions[0]!);
  const itemIds = ['.', 'docs/résumé.txt', 'folder:01ABCDEF'];
  const changeFacts: (string | number | undefined)[][] = [
    ['file', 1234, '1700000000123456789', 33188, undefined],
    ['symlink', 7, '1700000000000000000', 41471, '../target'],
    ['"{3A1B},42"', 'AAMkAGI2'],
    ['content', '"c:{3A1B},7"\u00001234\u0000aGVsbG8='],
  ];
  const tokens = {
    partition: partitions.map((name) => ({ name, token: partitionToken(tokenKey, name) })),
    item: itemIds.map((id) => ({ partitionToken: ptoken, id, token: itemToken(tokenKey, ptoken, id), itemPartitionKey: catalog.itemPartition(itemToken(tokenKey, ptoken, id)) })),
    group: ['drive', 'events', 'AAMkAGI2'].map((scope) => ({ partitionToken: ptoken, scope, token: catalog.groupToken(scope) })),
    change: changeFacts.map((facts) => ({ facts: facts.map((f) => (f === undefined ? null : f)), joined: hex(Buffer.from(facts.map((f) => String(f ?? '')).join('\0'))), token: changeToken(tokenKey, ...facts) })),
  };

  // Chunk IDs and sealed chunks.
  const chunkData = [Buffer.alloc(0), Buffer.from('hello'), fixedBytes('chunk data', 1000)];
  const chunkIds = chunkData.map((d) => ({ data: hex(d), id: hex(chunkId(chunkIdKey, d)) }));
  const packKey = fixedBytes('pack key', 32);
  const rawData = fixedBytes('raw chunk', 100);
  const textData = Buffer.from('hello world '.repeat(100));
  const sealedChunk = (data: Buffer, flag: 0 | 1, label: string) => {
    const id = chunkId(chunkIdKey, data);
    const payload = flag === 1 ? deflateRawSync(data, { level: 1 }) : data;
    const nonce = fixedBytes(label, 12);
    return { data, id, flag, payload, nonce, sealed: gcmSeal(packKey, nonce, Buffer.concat([Buffer.from([flag]), payload]), id) };
  };
  const chunks = [sealedChunk(rawData, 0, 'nonce raw chunk'), sealedChunk(textData, 1, 'nonce deflate chunk')];

  // Pack and pack index.
  const packId = hex(fixedBytes('pack id', 16));
  const entries: { chunkId: Buffer; offset: number; length: number; rawLength: number }[] = [];
  let offset = 0;
  for (const c of chunks) {
    entries.push({ chunkId: c.id, offset, length: c.sealed.length, rawLength: c.data.length });
    offset += c.sealed.length;
  }
  const headerPlain = entryTable(entries);
  const sealedHeader = gcmSeal(packKey, fixedBytes('nonce pack header', 12), headerPlain, Buffer.concat([Buffer.from('pack-header'), Buffer.from(packId, 'hex')]));
  const packKeyPurpose = `pack-key:${packId}`;
  const ephemeral = fixedBytes('ephemeral private key', 32);
  const sealedPackKey = boxSeal(repoPublic, packKey, packKeyPurpose, ephemeral, fixedBytes('nonce pack key', 12));
  const trailer = Buffer.concat([u32le(sealedHeader.length), Buffer.from([sealedPackKey.length & 0xff, sealedPackKey.length >> 8]), Buffer.from([1, 0]), Buffer.from('M365PACK')]);
  const pack = Buffer.concat([...chunks.map((c) => c.sealed), sealedHeader, sealedPackKey, trailer]);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(pack.length), 0);
  const keyLen = Buffer.alloc(2);
  keyLen.writeUInt16LE(sealedPackKey.length, 0);
  const indexBody = Buffer.concat([Buffer.from([1]), size, sha256(pack), keyLen, sealedPackKey, headerPlain]);
  const packIndex = gcmSeal(indexKey, fixedBytes('nonce pack index', 12), indexBody, Buffer.concat([Buffer.from('pack-index'), Buffer.from(packId, 'hex')]));

  // Key records.
  const fileKey = fixedBytes('local key file', 32);
  const masterEnvelope = envelopeSeal(fileKey, fixedBytes('dek master', 32), fixedBytes('nonce kek master', 12), fixedBytes('nonce master', 12), master, 'master-secret');
  const inner = gcmSeal(passwordKey, fixedBytes('nonce private key', 12), repoPrivate, repoPublic);
  const privateEnvelope = envelopeSeal(fileKey, fixedBytes('dek private', 32), fixedBytes('nonce kek private', 12), fixedBytes('nonce private envelope', 12), inner, 'private-key');
  const runKeyId = hex(fixedBytes('run key id', 8));
  const runKey = fixedBytes('run key', 32);
  const sealedRunKey = boxSeal(repoPublic, runKey, `run-key:${runKeyId}`, fixedBytes('ephemeral run key', 32), fixedBytes('nonce run key', 12));

  // Item rows.
  const item = tokens.item[1]!;
  const rowKey = `${item.token}.${padSeq(1)}`;
  const meta = { path: 'docs/résumé.txt', type: 'file', size: 5, mtimeNs: '1700000000123456789', mode: 33188 };
  const sealedMeta = gcmSeal(runKey, fixedBytes('nonce item meta', 12), Buffer.from(JSON.stringify(meta)), Buffer.from(`${item.itemPartitionKey}/${rowKey}`));
  const itemChunkIds = Buffer.concat([chunks[0]!.id, chunks[1]!.id]);
  const payload = Buffer.concat([u32le(sealedMeta.length), sealedMeta, itemChunkIds]);
  const itemCt = tokens.change[0]!.token;
  const itemRow = signedRow(macKey, layout.itemTable, {
    PartitionKey: item.itemPartitionKey,
    RowKey: rowKey,
    properties: { f: int(1), t: int(OPEN_END), ct: str(itemCt), k: str(runKeyId), n: int(0), d0: bin(payload) },
  });

  // An item too long for one row: 30,000 chunk IDs, split into d0..d14 of 60,000 bytes and a continuation row.
  const bigIds = fixedBytes('continuation chunk ids', 32 * CONTINUATION_CHUNKS);
  const bigItem = tokens.item[2]!;
  const bigRowKey = `${bigItem.token}.${padSeq(2)}`;
  const bigMeta = { type: 'file', id: '01ABCDEF', name: 'big.bin', parentId: '01ROOT', size: 31_457_280_000 };
  const bigSealed = gcmSeal(runKey, fixedBytes('nonce big meta', 12), Buffer.from(JSON.stringify(bigMeta)), Buffer.from(`${bigItem.itemPartitionKey}/${bigRowKey}`));
  const bigPayload = Buffer.concat([u32le(bigSealed.length), bigSealed, bigIds]);
  const bigRows = splitRows(macKey, layout.itemTable, bigItem.itemPartitionKey, bigRowKey, 2, { ct: str(tokens.change[2]!.token), g: str(tokens.group[2]!.token), k: str(runKeyId) }, bigPayload);

  // Row MACs of every property type.
  const macRows = [
    signedRow(macKey, layout.snapshotTable, {
      PartitionKey: ptoken,
      RowKey: padSeq(3),
      properties: {
        seq: int(3),
        time: str('2026-11-20T18:00:00.000Z'),
        status: str('complete'),
        bytes: { type: 'Edm.Double', value: 3_000_000_000 },
        items: int(0),
        delta: int(-5),
        label: str('Ünïcødé ✓'),
        empty: str(''),
        yes: { type: 'Edm.Boolean', value: true },
        no: { type: 'Edm.Boolean', value: false },
        big: { type: 'Edm.Int64', value: '9007199254740991' },
        info: bin(fixedBytes('binary property', 20)),
      },
    }),
    signedRow(macKey, layout.chunkTable, { PartitionKey: chunkIds[2]!.id.slice(0, 1), RowKey: chunkIds[2]!.id, properties: { pack: str(packId), off: int(0), len: int(128), raw: int(100) } }),
  ];
  // The product's own MAC of the same rows must match (checked by the test as well).
  for (const r of macRows) if (hex(rowMac(macKey, r.PartitionKey === ptoken ? layout.snapshotTable : layout.chunkTable, toProductRow(r))) !== Buffer.from(r.properties.mac!.value as string, 'base64').toString('hex')) throw new Error('spec and product row MAC differ');

  // Bloom filter.
  const bloom = new BloomFilter(0, 7, new Uint8Array(64));
  const bloomIds = chunkIds.map((c) => Buffer.from(c.id, 'hex'));
  for (const id of bloomIds) bloom.add(id);
  const positions = bloomIds.map((id) => {
    const h1 = id.readUInt32BE(0);
    const h2 = id.readUInt32BE(4) | 1;
    return Array.from({ length: 7 }, (_, i) => Number(((BigInt(h1) + BigInt(i) * BigInt(h2 >>> 0)) % 2n ** 32n) % 512n));
  });

  // Chunker.
  const gear = Array.from(gearTable(gearKey));
  const chunkInput = fixedBytes('chunker input', 1 << 20);
  const chunker = new Chunker(gearKey, SMALL_CHUNKER);
  const cuts: number[] = [];
  for (let pos = 0; pos < chunkInput.length; ) {
    const len = chunker.cut(chunkInput, pos, chunkInput.length, true);
    cuts.push(len);
    pos += len;
  }

  return {
    about:
      'Known-answer vectors of the m365-backup repository format, version 1 (docs/repository-format.md, section 12). Bytes are lowercase hex unless a field says base64; fixedBytes(label, n) = the first n bytes of SHA-256(label ‖ u32le 0) ‖ SHA-256(label ‖ u32le 1) ‖ …',
    argon2id: argonVectors,
    masterSecret: hex(master),
    subkeys: { hkdf: 'HKDF-SHA-256(ikm = master secret, salt = empty, info, L = 32)', keys: subkeys },
    x25519: { privateKey: hex(repoPrivate), publicKey: hex(repoPublic) },
    layout: {
      repository: VECTOR_REPOSITORY,
      containers: [layout.packContainer, layout.metaContainer],
      tables: [layout.configTable, layout.chunkTable, layout.packTable, layout.snapshotTable, layout.itemTable],
      packBlob: packBlobName(packId),
      packIndexBlob: packIndexBlobName(packId),
      catalogBlob: catalogBlobName(ptoken, 3),
      bloomBlob: BLOOM_BLOB,
      lockBlob: lockBlobName(ptoken),
      openEnd: OPEN_END,
    },
    tokens: { tokenKey: hex(tokenKey), ...tokens },
    chunkIds: { chunkIdKey: hex(chunkIdKey), vectors: chunkIds },
    sealedChunks: {
      packKey: hex(packKey),
      vectors: chunks.map((c) => ({ data: hex(c.data), chunkId: hex(c.id), flag: c.flag, payload: hex(c.payload), nonce: hex(c.nonce), sealed: hex(c.sealed) })),
    },
    sealedBox: {
      recipientPublicKey: hex(repoPublic),
      recipientPrivateKey: hex(repoPrivate),
      vectors: [
        { purpose: packKeyPurpose, ephemeralPrivateKey: hex(ephemeral), ephemeralPublicKey: hex(x25519PublicOf(ephemeral)), nonce: hex(fixedBytes('nonce pack key', 12)), plaintext: hex(packKey), sealed: hex(sealedPackKey) },
        { purpose: `run-key:${runKeyId}`, ephemeralPrivateKey: hex(fixedBytes('ephemeral run key', 32)), ephemeralPublicKey: hex(x25519PublicOf(fixedBytes('ephemeral run key', 32))), nonce: hex(fixedBytes('nonce run key', 12)), plaintext: hex(runKey), sealed: hex(sealedRunKey) },
      ],
    },
    localKeyFile: { file: JSON.stringify({ version: 1, key: b64(fileKey) }), keyId: localKeyId(fileKey) },
    envelopes: [
      { purpose: 'master-secret', dek: hex(fixedBytes('dek master', 32)), payload: hex(master), envelope: hex(masterEnvelope) },
      { purpose: 'private-key', dek: hex(fixedBytes('dek private', 32)), payload: hex(inner), envelope: hex(privateEnvelope) },
    ],
    privateKeyRecord: { password, salt: hex(salt), ...TEST_ARGON2, inner: hex(inner), innerAad: 'the raw public key', envelope: hex(privateEnvelope), privateKey: hex(repoPrivate) },
    pack: {
      packId,
      packKey: hex(packKey),
      entries: entries.map((e) => ({ chunkId: hex(e.chunkId), offset: e.offset, length: e.length, rawLength: e.rawLength })),
      headerPlaintext: hex(headerPlain),
      sealedHeader: hex(sealedHeader),
      sealedPackKey: hex(sealedPackKey),
      trailer: hex(trailer),
      blob: hex(pack),
      sha256: hex(sha256(pack)),
    },
    packIndex: { packId, indexKey: hex(indexKey), bodyPlaintext: hex(indexBody), blob: hex(packIndex), sha256: hex(sha256(packIndex)) },
    runKey: { keyId: runKeyId, key: hex(runKey), sealed: hex(sealedRunKey) },
    itemRow: { table: layout.itemTable, macKey: hex(macKey), meta, sealedMeta: hex(sealedMeta), chunkIds: hex(itemChunkIds), row: itemRow },
    itemContinuation: {
      table: layout.itemTable,
      chunkIds: { rule: `fixedBytes("continuation chunk ids", ${32 * CONTINUATION_CHUNKS})`, count: CONTINUATION_CHUNKS, sha256: hex(sha256(bigIds)) },
      meta: bigMeta,
      sealedMeta: hex(bigSealed),
      payloadLength: bigPayload.length,
      payloadSha256: hex(sha256(bigPayload)),
      rows: bigRows,
    },
    rowMacs: { macKey: hex(macKey), rows: macRows.map((r, i) => ({ table: i === 0 ? layout.snapshotTable : layout.chunkTable, ...r })) },
    bloom: {
      macKey: hex(macKey),
      k: 7,
      bitCount: 512,
      ids: bloomIds.map(hex),
      positions,
      blob: hex(bloom.encode(macKey)),
    },
    bloomDelta: {
      macKey: hex(macKey),
      name: { time: 1700000000123, random: hex(fixedBytes('bloom delta name', 8)), value: bloomDeltaName(1700000000123, fixedBytes('bloom delta name', 8)) },
      ids: bloomIds.map(hex),
      blob: hex(encodeBloomDelta(macKey, bloomIds)),
    },
    forgottenMarker: {
      macKey: hex(macKey),
      partition: 'p0123456789abcdef0123456789abcdef',
      seq: 42,
      name: forgottenMarkerName('p0123456789abcdef0123456789abcdef', 42),
      body: hex(forgottenMarker(macKey, 'p0123456789abcdef0123456789abcdef', 42)),
    },
    lockGeneration: {
      rule: 'until = ceil((now + days * 86400000) / (generationDays * 86400000)) * generationDays * 86400000',
      cases: [
        { now: 1700000000123, days: 30, generationDays: 10, until: generationEnd({ days: 30, generationDays: 10 }, 1700000000123) },
        { now: 1728000000000, days: 30, generationDays: 10, until: generationEnd({ days: 30, generationDays: 10 }, 1728000000000) },
        { now: 1700000000000, days: 365, generationDays: 7, until: generationEnd({ days: 365, generationDays: 7 }, 1700000000000) },
      ],
    },
    chunker: {
      gearKey: hex(gearKey),
      gear,
      params: SMALL_CHUNKER,
      input: { rule: `fixedBytes("chunker input", ${chunkInput.length})`, sha256: hex(sha256(chunkInput)) },
      cuts,
    },
  };
}

/** Splits an item payload into rows of 15 properties of 60,000 bytes (section 6), MACed by the spec. */
export function splitRows(macKey: Buffer, table: string, pk: string, rowKey: string, from: number, head: Record<string, TypedValue>, payload: Buffer) {
  const perRow = 15 * 60_000;
  const count = Math.max(1, Math.ceil(payload.length / perRow));
  const rows = [];
  for (let r = 0; r < count; r++) {
    const part = payload.subarray(r * perRow, (r + 1) * perRow);
    const props: Record<string, TypedValue> = r === 0 ? { f: int(from), t: int(OPEN_END), ...head, n: int(count - 1) } : { f: int(from) };
    const d: { name: string; length: number; sha256: string }[] = [];
    for (let i = 0; i * 60_000 < part.length; i++) {
      const v = part.subarray(i * 60_000, (i + 1) * 60_000);
      props[`d${i}`] = bin(v);
      d.push({ name: `d${i}`, length: v.length, sha256: hex(sha256(v)) });
    }
    const signed = signedRow(macKey, table, { PartitionKey: pk, RowKey: r === 0 ? rowKey : `${rowKey}~${r}`, properties: props });
    const small = Object.fromEntries(Object.entries(signed.properties).filter(([k]) => !/^d\d+$/.test(k)));
    rows.push({ PartitionKey: signed.PartitionKey, RowKey: signed.RowKey, properties: small, d, macInputSha256: hex(sha256(Buffer.from(signed.macInput, 'hex'))) });
  }
  return rows;
}

/** A typed row as the product holds it after reading it back through its table store. */
export function toProductRow(r: TypedRow): { partitionKey: string; rowKey: string } & Record<string, unknown> {
  const row: { partitionKey: string; rowKey: string } & Record<string, unknown> = { partitionKey: r.PartitionKey, rowKey: r.RowKey };
  for (const [k, p] of Object.entries(r.properties)) {
    if (p.type === 'Edm.Binary') row[k] = Buffer.from(p.value, 'base64');
    else if (p.type === 'Edm.Int64') row[k] = Number(p.value);
    else row[k] = p.value;
  }
  return row;
}
