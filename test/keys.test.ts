import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestStorage } from './support/azurite';
import { startCliSuite, type CliSuite } from './support/suite';
import { runCli, type CliEnv } from './support/cli';
import { put } from './support/folders';
import { dumpStorage } from './support/dump';
import { diffManifests, manifest } from './support/tree';
import { repositoryLayout } from '../shared/repo';

const MARKER = 'M365-BACKUP-SECRET-MARKER-5f1c0e2b9a';
const NAMES = ['quarterly-board-minutes-confidential.docx', 'salary-review-spreadsheet.xlsx', 'acquisition-target-shortlist'];

describe('keys: write-only backups, passwords, change-password', () => {
  let suite: CliSuite;
  let storage: TestStorage;
  let work: string;
  let src: string;
  let withPassword: CliEnv;
  let noPassword: CliEnv;
  const layout = repositoryLayout('m365backup');

  before(async () => {
    suite = await startCliSuite('keys', 'first password 1');
    storage = suite.storage;
    work = suite.work;
    src = join(work, 'src');
    put(src, `${NAMES[2]}/${NAMES[0]}`, `The marker: ${MARKER}\n`.repeat(100));
    put(src, NAMES[1]!, `another copy of ${MARKER}`);
    put(src, 'plain.txt', 'nothing to see');
    withPassword = suite.env;
    noPassword = { ...suite.env, password: undefined };
    const r = await runCli(['init'], withPassword);
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    await suite?.stop();
  });

  test('backup and structural verify need no password', async () => {
    const b = await runCli(['backup', src], noPassword);
    assert.equal(b.code, 0, b.stderr);
    const v = await runCli(['verify'], noPassword);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  test('ls, restore and verify --read-data require the password', async () => {
    for (const args of [['ls', 'latest'], ['restore', 'latest', join(work, 'r0')], ['verify', '--read-data']]) {
      const r = await runCli(args, noPassword);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /password is needed/);
    }
  });

  test('a wrong password is a clear error with exit 1, and changes nothing', async () => {
    const before = await dumpStorage(storage.blobs, storage.tables, [layout.packContainer, layout.metaContainer]);
    const target = join(work, 'wrong');
    for (const args of [['ls', 'latest'], ['restore', 'latest', target], ['verify', '--read-data'], ['change-password', '--new-password-file', join(work, 'x')]]) {
      writeFileSync(join(work, 'x'), 'whatever new');
      const r = await runCli(args, { ...noPassword, password: 'not the password' });
      assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /password is wrong/);
    }
    const after = await dumpStorage(storage.blobs, storage.tables, [layout.packContainer, layout.metaContainer]);
    assert.deepEqual([...after.blobs.keys()], [...before.blobs.keys()]);
    assert.ok(after.rows.equals(before.rows), 'table rows changed');
  });

  test('after change-password the old password fails, the new one works, and no pack changed', async () => {
    const etags = new Map<string, string>();
    for await (const b of storage.blobs.list(layout.packContainer)) etags.set(b.name, b.etag);
    assert.ok(etags.size > 0);
    writeFileSync(join(work, 'new-pw'), 'second password 2\n');
    const c = await runCli(['change-password', '--new-password-file', join(work, 'new-pw')], withPassword);
    assert.equal(c.code, 0, c.stderr);
    const old = await runCli(['ls', 'latest'], withPassword);
    assert.equal(old.code, 1);
    assert.match(old.stderr, /password is wrong/);
    const fresh = await runCli(['restore', 'latest', join(work, 'restored')], { ...noPassword, password: 'second password 2' });
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.deepEqual(diffManifests(await manifest(src), await manifest(join(work, 'restored'))), []);
    for await (const b of storage.blobs.list(layout.packContainer)) assert.equal(b.etag, etags.get(b.name), `pack ${b.name} was rewritten`);
  });

  test('no blob or table row contains file content or file names', async () => {
    const dump = await dumpStorage(storage.blobs, storage.tables, [layout.packContainer, layout.metaContainer]);
    const needles = [MARKER, ...NAMES, 'plain.txt'];
    for (const n of needles) {
      const needle = Buffer.from(n);
      assert.equal(dump.rows.indexOf(needle), -1, `a table row contains ${n}`);
      for (const [name, data] of dump.blobs) {
        assert.ok(!name.includes(n), `blob name ${name} contains ${n}`);
        assert.equal(data.indexOf(needle), -1, `blob ${name} contains ${n}`);
      }
    }
  });
});
