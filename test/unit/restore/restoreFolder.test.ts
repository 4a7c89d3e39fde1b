import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsToUtimeSeconds } from '../../../shared/restore/restoreFolder';

describe('restored mtimes', () => {
  test('land on the exact microsecond, also on millisecond boundaries', () => {
    const dir = mkdtempSync(join(tmpdir(), 'm365b-mtime-'));
    try {
      const file = join(dir, 'f');
      writeFileSync(file, 'x');
      for (const ns of ['1795319812711000000', '1795319812712000123', '1700000000000999999', '1600000000123456789']) {
        utimesSync(file, nsToUtimeSeconds(ns), nsToUtimeSeconds(ns));
        const got = statSync(file, { bigint: true }).mtimeNs;
        assert.equal(got / 1000n, BigInt(ns) / 1000n, `${ns} came back as ${got}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
