import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestStorage } from './support/azurite';
import { startCliSuite, type CliSuite } from './support/suite';
import { runCli, type CliEnv } from './support/cli';
import { put, putRandomFile } from './support/folders';
import { SeededRandom } from './support/random';
import { manifest } from './support/tree';
import { repositoryLayout } from '../shared/repo';

const MiB = 1024 * 1024;

describe('tampering is detected and named; what does not depend on it still restores', () => {
  let suite: CliSuite;
  let storage: TestStorage;
  let work: string;
  let src: string;
  let env: CliEnv;
  const layout = repositoryLayout('m365backup');

  before(async () => {
    suite = await startCliSuite('tamper', 'tamper test password');
    storage = suite.storage;
    work = suite.work;
    src = join(work, 'src');
    const rnd = new SeededRandom(11);
    for (let i = 0; i < 5; i++) putRandomFile(src, `big-${i}.bin`, 20 * MiB, rnd);
    for (let i = 0; i < 50; i++) put(src, `small/${i}.txt`, `small file ${i}\n`.repeat(i + 1));
    env = suite.env;
    assert.equal((await runCli(['init'], env)).code, 0);
    const b = await runCli(['backup', src], env);
    assert.equal(b.code, 0, b.stderr);
  });

  after(async () => {
    await suite?.stop();
  });

  async function flipByte(container: string, name: string, at: (size: number) => number): Promise<() => Promise<void>> {
    const original = await storage.blobs.getBlob(container, name);
    const changed = Buffer.from(original);
    changed[at(changed.length)]! ^= 0x01;
    await storage.blobs.putBlob(container, name, changed);
    return async () => void (await storage.blobs.putBlob(container, name, original));
  }

  test('a flipped byte in a pack: verify --read-data names the pack; other files restore', async () => {
    const packs: string[] = [];
    for await (const b of storage.blobs.list(layout.packContainer)) if (b.size > 10 * MiB) packs.push(b.name);
    assert.ok(packs.length >= 3, `expected several packs, got ${packs.length}`);
    const victim = packs[0]!;
    const undo = await flipByte(layout.packContainer, victim, (n) => Math.floor(n / 3));
    try {
      const plain = await runCli(['verify'], env);
      assert.equal(plain.code, 0, 'structure alone does not read pack content');
      const v = await runCli(['verify', '--read-data'], env);
      assert.equal(v.code, 1);
      const packId = victim.split('/').pop()!;
      assert.match(v.stdout, new RegExp(`PROBLEM: pack ${packId}`));
      const out = join(work, 'partial');
      const r = await runCli(['restore', 'latest', out, '--json'], env);
      assert.equal(r.code, 3, r.stderr);
      const result = JSON.parse(r.stdout) as { failures: { path: string }[] };
      assert.ok(result.failures.length >= 1 && result.failures.length < 5, JSON.stringify(result.failures));
      const failed = new Set(result.failures.map((f) => f.path));
      const expected = await manifest(src);
      const actual = await manifest(out);
      let intact = 0;
      for (const [path, line] of expected) {
        if (failed.has(path) || !line.startsWith('file')) continue;
        assert.equal(actual.get(path), line, `${path} should have restored`);
        intact++;
      }
      assert.ok(intact >= 50);
    } finally {
      await undo();
    }
    assert.equal((await runCli(['verify', '--read-data'], env)).code, 0);
  });

  test('a flipped byte in a pack-index blob: verify names the blob without the password', async () => {
    let name = '';
    for await (const b of storage.blobs.list(layout.metaContainer, { prefix: 'packindex/' })) name = b.name;
    const undo = await flipByte(layout.metaContainer, name, (n) => n - 20);
    try {
      const v = await runCli(['verify'], { ...env, password: undefined });
      assert.equal(v.code, 1);
      assert.ok(v.stdout.includes(`PROBLEM: pack index blob ${name}`), v.stdout);
    } finally {
      await undo();
    }
  });

  test('a flipped byte in a sealed table field: verify names the row', async () => {
    let target: Record<string, unknown> & { partitionKey: string; rowKey: string; etag: string } | undefined;
    for await (const row of storage.tables.query(layout.itemTable)) if (row.d0 instanceof Uint8Array && (row.d0 as Uint8Array).length > 40) target = row;
    assert.ok(target);
    const { etag: _e, ...original } = target;
    const d0 = Buffer.from(target.d0 as Uint8Array);
    d0[10]! ^= 0x01;
    await storage.tables.upsert(layout.itemTable, { ...original, d0 });
    try {
      const v = await runCli(['verify'], { ...env, password: undefined });
      assert.equal(v.code, 1);
      assert.ok(v.stdout.includes(`PROBLEM: table ${layout.itemTable} row ${target.partitionKey}/${target.rowKey}`), v.stdout);
      const ls = await runCli(['ls', 'latest'], env);
      assert.equal(ls.code, 1);
      assert.match(ls.stderr, /was altered or is corrupted/);
    } finally {
      await storage.tables.upsert(layout.itemTable, original);
    }
    assert.equal((await runCli(['verify'], env)).code, 0);
  });
});
