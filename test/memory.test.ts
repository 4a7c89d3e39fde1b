import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStorage, type TestStorage } from './support/azurite';
import { runCli, type CliEnv } from './support/cli';
import { putRandomFile } from './support/folders';
import { SeededRandom } from './support/random';

const GiB = 1024 * 1024 * 1024;

describe('memory', () => {
  let storage: TestStorage;
  let work: string;
  let env: CliEnv;

  before(async () => {
    storage = await startTestStorage();
    work = mkdtempSync(join(tmpdir(), 'm365b-memory-'));
    putRandomFile(join(work, 'src'), 'four-gib.bin', 4 * GiB, new SeededRandom(4));
    env = { connectionString: storage.connectionString, dataDir: join(work, 'data'), password: 'memory test password' };
    assert.equal((await runCli(['init'], env)).code, 0);
  });

  after(async () => {
    await storage?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('backing up a 4 GiB file stays under 256 MiB peak RSS', async () => {
    const r = await runCli(['backup', join(work, 'src'), '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { bytes: number; newBytes: number; peakRssMiB: number };
    assert.equal(s.bytes, 4 * GiB);
    assert.equal(s.newBytes, 4 * GiB);
    assert.ok(s.peakRssMiB < 256, `peak RSS ${s.peakRssMiB} MiB`);
  });
});
