import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipBuffer } from '../../../cli/unzip';
import { centralRecord, dataDescriptor, endOfCentralDirectory, entryCrc, localHeader, type ZipEntry } from '../../../shared/restore/m365/zipFormat';

/** One part: entries written one after another, offsets relative to the part; `drop` names are left out of the directory. */
function part(files: [string, Buffer | null][], drop: string[] = []): { bytes: Buffer; entries: ZipEntry[] } {
  const out: Buffer[] = [];
  let at = 0;
  const entries: ZipEntry[] = [];
  const put = (b: Buffer) => {
    out.push(b);
    at += b.length;
  };
  for (const [name, data] of files) {
    const offset = at;
    const d = data ?? Buffer.alloc(0);
    put(localHeader(name, d.length, Date.UTC(2026, 0, 2, 3, 4, 6)));
    // Content in two pieces: the CRC is carried across them.
    put(d.subarray(0, 3));
    put(d.subarray(3));
    const crc = entryCrc(d.subarray(3), entryCrc(d.subarray(0, 3)));
    put(dataDescriptor(crc, d.length));
    if (!drop.includes(name)) entries.push({ name, dir: data === null, crc, size: d.length, offset, mtime: Date.UTC(2026, 0, 2, 3, 4, 6) });
  }
  return { bytes: Buffer.concat(out), entries };
}

describe('zip written in parts', () => {
  test('two parts joined by one central directory read back exactly; a dropped entry is not in the zip', async () => {
    const a = part([
      ['alice/', null],
      ['alice/notes é.txt', Buffer.from('hello from alice')],
      ['alice/broken.bin', Buffer.from('half written')],
    ], ['alice/broken.bin']);
    const b = part([['bob/Mail/x.eml', Buffer.alloc(70_000, 7)]]);
    const cd = Buffer.concat([...a.entries.map((e) => centralRecord(e, 0)), ...b.entries.map((e) => centralRecord(e, a.bytes.length))]);
    const zip = Buffer.concat([a.bytes, b.bytes, cd, endOfCentralDirectory(a.entries.length + b.entries.length, a.bytes.length + b.bytes.length, cd.length)]);
    const dir = mkdtempSync(join(tmpdir(), 'm365b-zip-'));
    try {
      assert.equal(await unzipBuffer(zip, dir), 2);
      assert.equal(readFileSync(join(dir, 'alice/notes é.txt'), 'utf8'), 'hello from alice');
      assert.deepEqual(readFileSync(join(dir, 'bob/Mail/x.eml')), Buffer.alloc(70_000, 7));
      assert.ok(!existsSync(join(dir, 'alice/broken.bin')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ZIP64 records where sizes or offsets need them', () => {
    const big: ZipEntry = { name: 'x', dir: false, crc: 1, size: 5 * 2 ** 30, offset: 0, mtime: 0 };
    const r = centralRecord(big, 6 * 2 ** 30);
    assert.equal(r.readUInt32LE(20), 0xffffffff);
    assert.equal(r.readUInt32LE(42), 0xffffffff);
    assert.equal(r.readUInt16LE(30), 4 + 24);
    assert.equal(Number(r.readBigUInt64LE(46 + 1 + 4 + 16)), 6 * 2 ** 30);
    assert.equal(localHeader('x', 5 * 2 ** 30, 0).length, 30 + 1 + 20);
    assert.equal(dataDescriptor(1, 5 * 2 ** 30).length, 24);
    assert.equal(endOfCentralDirectory(70_000, 10, 10).length, 56 + 20 + 22);
    assert.equal(endOfCentralDirectory(3, 10, 10).length, 22);
  });
});
