import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliResult } from '../support/cli';
import { put } from '../support/folders';
import { assertRestoreMatches, snapshotExpectation, startM365Suite, type M365Suite, type SuiteTenant } from '../support/m365';

const SHAPE = { users: 2, filesPerUser: 3, maxFileBytes: 200_000, messagesPerUser: 4, eventsPerUser: 2, contactsPerUser: 2 };
const FOLDER_PASSWORD = 'the folder repository password';

/** One clear sentence: a single "m365-backup:" line (hints aside), no stack trace. */
function assertClearError(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code; stdout: ${r.stdout} stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('hint:'));
  assert.equal(lines.length, 1, `expected one error line, got: ${r.stderr}`);
  assert.match(lines[0]!, /^m365-backup: /);
  assert.match(lines[0]!, pattern);
}

interface Restored {
  partitions: { userPrincipalName: string; service: string; snapshot: number; items: number }[];
}

interface SnapshotRow {
  user: string;
  service: string;
  snapshot: number;
  time: string;
}

describe('--tenant on every repository command, and one restore grammar for folders and tenants', () => {
  let suite: M365Suite;
  let contoso: SuiteTenant;
  let upn = '';
  let afterFirst = '';
  let expectedFirst: ReturnType<typeof snapshotExpectation>;
  const folderCli = (args: string[], password = FOLDER_PASSWORD) => suite.cli(args, password);

  before(async () => {
    suite = await startM365Suite([{ name: 'contoso', seed: 8, shape: SHAPE }]);
    contoso = suite.tenants.get('contoso')!;
    upn = [...contoso.tenant.users.values()][0]!.user.userPrincipalName;
    // A folder repository beside the tenant's, with its own password: --tenant must never touch it.
    assert.equal((await folderCli(['init'])).code, 0);
    put(join(suite.work, 'src'), 'a.txt', 'folder data');
    assert.equal((await folderCli(['backup', join(suite.work, 'src')])).code, 0);
    const add = await suite.addTenant('contoso');
    assert.equal(add.code, 0, add.stderr);
    const first = await suite.cli(['backup', '--tenant', 'contoso'], contoso.password);
    assert.equal(first.code, 0, first.stderr);
    afterFirst = new Date().toISOString();
    expectedFirst = snapshotExpectation(contoso);
    contoso.editor.addMessage(upn, 'Inbox', { subject: 'Second night', from: { name: 'X', address: 'x@partner.example' }, to: [{ name: 'Me', address: upn }], text: 'new', received: new Date().toISOString() });
    const second = await suite.cli(['backup', '--tenant', 'contoso'], contoso.password);
    assert.equal(second.code, 0, second.stderr);
  });
  after(async () => {
    await suite?.stop();
  });

  test('an empty --user, --service or --tenant is a usage error and restores nothing', async () => {
    const target = join(suite.work, 'empty-user');
    assertClearError(await suite.cli(['restore', '--tenant', 'contoso', '--user', '', target], contoso.password), 2, /--user must not be empty/);
    assertClearError(await suite.cli(['restore', 'latest', target, '--tenant', 'contoso', '--user', ' '], contoso.password), 2, /--user must not be empty/);
    assert.equal(existsSync(target), false, 'nothing was restored');
    assertClearError(await suite.cli(['snapshots', '--tenant', 'contoso', '--service', '']), 2, /--service must not be empty/);
    assertClearError(await suite.cli(['verify', '--tenant', '']), 2, /--tenant must not be empty/);
    assertClearError(await suite.cli(['backup', '--tenant', 'contoso', '--user', ''], contoso.password), 2, /--user must not be empty/);
  });

  test('options that would be ignored are refused instead', async () => {
    const target = join(suite.work, 'refused');
    assertClearError(await folderCli(['restore', 'latest', target, '--user', upn]), 2, /--user selects within a tenant: add --tenant/);
    assertClearError(await folderCli(['snapshots', '--service', 'mail']), 2, /--service selects within a tenant/);
    assertClearError(await suite.cli(['init', '--tenant', 'contoso'], contoso.password), 2, /init does not take --tenant/);
    assertClearError(await suite.cli(['tenant', 'list', '--tenant', 'contoso']), 2, /tenant does not take --tenant/);
    assertClearError(await suite.cli(['snapshots', '--tenant', 'contoso', '--all']), 2, /does not take --all/);
    assertClearError(await suite.cli(['ls', '--tenant', 'contoso', '--user', upn, '--service', 'mail', '--include', 'x'], contoso.password), 2, /does not take --include/);
    assertClearError(await suite.cli(['restore', 'latest', target, '--tenant', 'contoso', '--at', afterFirst], contoso.password), 2, /either as an argument or as --at, not both/);
    assertClearError(await suite.cli(['backup', '--tenant', 'contoso', '--at', afterFirst], contoso.password), 2, /backup does not take --at/);
    assertClearError(await suite.cli(['verify', '--tenant', 'contoso', '--partition', 'laptop']), 2, /verify --tenant does not take --partition/);
    assert.equal(existsSync(target), false);
  });

  test('verify and verify --read-data check the tenant repository, not the folder one', async () => {
    const folder = await folderCli(['verify', '--json']);
    assert.equal(folder.code, 0, folder.stderr);
    const f = JSON.parse(folder.stdout) as { repository: string; snapshots: number };
    assert.equal(f.repository, 'm365backup');
    const tenant = await suite.cli(['verify', '--tenant', 'contoso', '--json']);
    assert.equal(tenant.code, 0, tenant.stdout + tenant.stderr);
    const t = JSON.parse(tenant.stdout) as { repository: string; snapshots: number; issues: unknown[] };
    assert.equal(t.repository, 'm365backupcontoso');
    assert.deepEqual(t.issues, []);
    assert.ok(t.snapshots > f.snapshots, `the tenant's ${t.snapshots} snapshots, not the folder's ${f.snapshots}`);

    const readData = await suite.cli(['verify', '--read-data', '--tenant', 'contoso'], contoso.password);
    assert.equal(readData.code, 0, readData.stdout + readData.stderr);
    assert.match(readData.stdout, /^Checked tenant "contoso" \(repository "m365backupcontoso"\): .*read and decrypted/m);
    // The folder repository's password does not open the tenant's: proof that the tenant's was read.
    assert.equal((await suite.cli(['verify', '--read-data', '--tenant', 'contoso'], FOLDER_PASSWORD)).code, 1);
  });

  test('snapshots and ls act on the tenant; ls picks a snapshot by number, date-time or --at', async () => {
    const rows = JSON.parse((await suite.cli(['snapshots', '--tenant', 'contoso', '--user', upn, '--service', 'mail', '--json'])).stdout) as SnapshotRow[];
    assert.deepEqual(rows.map((r) => r.snapshot), [1, 2]);
    const ls = async (...args: string[]) => {
      const r = await suite.cli(['ls', '--tenant', 'contoso', '--user', upn, '--service', 'mail', '--json', ...args], contoso.password);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { snapshot: number; entries: unknown[] };
    };
    const [one, two, latest, byTime, byAt] = [await ls('1'), await ls('2'), await ls(), await ls(rows[0]!.time), await ls('--at', afterFirst)];
    assert.equal(two.entries.length, one.entries.length + 1, 'the second night added one message');
    assert.equal(latest.snapshot, 2);
    assert.equal(byTime.snapshot, 1);
    assert.equal(byAt.snapshot, 1);
    assertClearError(await suite.cli(['ls', '9', '--tenant', 'contoso', '--user', upn, '--service', 'mail'], contoso.password), 1, new RegExp(`Snapshot 9 does not exist in the mail of ${upn}`));
  });

  test('restore: one grammar for folders and tenants, the old forms still work', async () => {
    const dir = (name: string) => join(suite.work, `restore-${name}`);
    const restore = async (args: string[], password = contoso.password) => {
      const r = await suite.cli(['restore', ...args, '--json'], password);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as Restored;
    };
    // Latest: the new form and the old one restore the same thing.
    await restore(['latest', dir('latest-new'), '--tenant', 'contoso']);
    await restore(['--tenant', 'contoso', dir('latest-old')]);
    const now = snapshotExpectation(contoso);
    assertRestoreMatches(dir('latest-new'), now);
    assertRestoreMatches(dir('latest-old'), now);
    // A point in time: positional date-time, or the old --at.
    await restore([afterFirst, dir('time-new'), '--tenant', 'contoso']);
    await restore(['--tenant', 'contoso', '--at', afterFirst, dir('time-old')]);
    assertRestoreMatches(dir('time-new'), expectedFirst);
    assertRestoreMatches(dir('time-old'), expectedFirst);
    // A snapshot number names one user's service, so it needs --user and one --service.
    const one = await restore(['1', dir('number-1'), '--tenant', 'contoso', '--user', upn, '--service', 'mail']);
    const two = await restore(['2', dir('number-2'), '--tenant', 'contoso', '--user', upn, '--service', 'mail']);
    assert.deepEqual(one.partitions.map((p) => [p.userPrincipalName, p.service, p.snapshot]), [[upn, 'mail', 1]]);
    assert.deepEqual(two.partitions.map((p) => [p.userPrincipalName, p.service, p.snapshot]), [[upn, 'mail', 2]]);
    assert.equal(two.partitions[0]!.items, one.partitions[0]!.items + 1);
    assertClearError(await suite.cli(['restore', '1', dir('number-bare'), '--tenant', 'contoso'], contoso.password), 2, /Snapshot numbers count per user and service/);
    assertClearError(await suite.cli(['restore', '1', dir('number-two'), '--tenant', 'contoso', '--user', upn, '--service', 'mail,contacts'], contoso.password), 2, /one --service/);
    assert.equal(existsSync(dir('number-bare')), false);
    assertClearError(await suite.cli(['restore', '2000-01-01', dir('too-early'), '--tenant', 'contoso'], contoso.password), 1, /Nothing of tenant "contoso" was backed up at or before 2000-01-01T00:00:00.000Z/);
    assertClearError(await suite.cli(['restore', 'soonish', dir('bad'), '--tenant', 'contoso'], contoso.password), 2, /"soonish" is not a snapshot/);

    // Folders take the same grammar: a number, latest, a date-time, or --at in its place.
    const folder = async (args: string[]) => {
      const r = await folderCli(['restore', ...args, '--json']);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { snapshot: number };
    };
    assert.equal((await folder(['1', dir('folder-number')])).snapshot, 1);
    assert.equal((await folder([new Date().toISOString(), dir('folder-time')])).snapshot, 1);
    assert.equal((await folder(['--at', new Date().toISOString(), dir('folder-at')])).snapshot, 1);
    assertClearError(await folderCli(['restore', dir('folder-alone')]), 2, /restore takes a snapshot and a target folder/);
  });

  test('rebuild-index --tenant rebuilds the tenant repository', async () => {
    const before = (await suite.cli(['snapshots', '--tenant', 'contoso', '--json'])).stdout;
    const r = await suite.cli(['rebuild-index', '--tenant', 'contoso']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Rebuilt the index of tenant "contoso" \(repository "m365backupcontoso"\): \d+ packs/);
    assert.equal((await suite.cli(['snapshots', '--tenant', 'contoso', '--json'])).stdout, before);
    const target = join(suite.work, 'after-rebuild');
    assert.equal((await suite.cli(['restore', 'latest', target, '--tenant', 'contoso'], contoso.password)).code, 0);
    assertRestoreMatches(target, snapshotExpectation(contoso));
  });

  test('change-password --tenant changes the tenant password only', async () => {
    const newFile = join(suite.work, 'new-password');
    writeFileSync(newFile, 'a brand new tenant password');
    const r = await suite.cli(['change-password', '--tenant', 'contoso', '--new-password-file', newFile], contoso.password);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Password of tenant "contoso"/);
    assertClearError(await suite.cli(['restore', 'latest', join(suite.work, 'old-pw'), '--tenant', 'contoso'], contoso.password), 1, /password/i);
    assert.equal((await suite.cli(['restore', 'latest', join(suite.work, 'new-pw'), '--tenant', 'contoso'], 'a brand new tenant password')).code, 0);
    // The folder repository still opens with its own password, and not with the tenant's new one.
    assert.equal((await folderCli(['ls', 'latest'])).code, 0);
    assert.equal((await folderCli(['ls', 'latest'], 'a brand new tenant password')).code, 1);
  });
});
