import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { assertRestoreMatches, snapshotExpectation, startM365Suite, type M365Suite, type SuiteTenant } from '../support/m365';
import { getJson, startFunctionsHost, waitForInstance, type FunctionsHostProcess } from '../support/functionsHost';
import { unzipBuffer } from '../../cli/unzip';
import { AppServices } from '../../shared/app/services';
import { loadSettings } from '../../shared/config';
import { Catalog, createRestoreSession } from '../../shared/repo';
import { servicePartition } from '../../shared/m365';
import { nameKey } from '../../shared/restore/m365/naming';

const SHAPE = { users: 3, filesPerUser: 3, maxFileBytes: 50_000, messagesPerUser: 3, eventsPerUser: 2, contactsPerUser: 2 };
const TENANT = 'namesco';
const LONG = 'l'.repeat(395);
/** Drive names that collide once sanitised, or on a case-insensitive file system. */
const CLASHING: [string, string][] = [
  ['.', 'a file named dot'],
  ['..', 'a file named dot dot'],
  [`${LONG}1.txt`, 'the first 400-character name'],
  [`${LONG}2.txt`, 'the second 400-character name'],
  ['Report.txt', 'upper-case report'],
  ['report.txt', 'lower-case report'],
];

function walk(root: string, dir = root, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(root, full, out);
    else out.push(relative(root, full));
  }
  return out.sort();
}

describe('restore: names never collide, a damaged row fails only its item, zips end with their link', () => {
  let suite: M365Suite;
  let t: SuiteTenant;
  let host: FunctionsHostProcess | undefined;
  let upn: string;
  let expectedFiles: number;

  before(async () => {
    suite = await startM365Suite([{ name: TENANT, seed: 23, shape: SHAPE }]);
    t = suite.tenants.get(TENANT)!;
    upn = [...t.tenant.users.values()].find((u) => u.user.hasDrive)!.user.userPrincipalName;
    for (const [name, text] of CLASHING) t.editor.addFile(upn, `clash/${name}`, Buffer.from(text));
    assert.equal((await suite.addTenant(TENANT)).code, 0);
    const b = await suite.cli(['backup', '--tenant', TENANT], t.password);
    assert.equal(b.code, 0, b.stderr);
    expectedFiles = snapshotExpectation(t).files.size;
  });
  after(async () => {
    await host?.stop().catch(() => undefined);
    await suite?.stop();
  });

  /** Checks the clashing folder, then removes it so the rest can be compared with the simulator's tree. */
  function checkClashFolder(target: string): string[] {
    const dir = join(target, upn, 'OneDrive', 'clash');
    const names = readdirSync(dir).sort();
    assert.equal(names.length, CLASHING.length, `every clashing file is restored: ${names.join(' | ')}`);
    assert.equal(new Set(names.map(nameKey)).size, names.length, 'the names differ case-insensitively');
    for (const n of names) assert.ok(Buffer.byteLength(n) <= 120, `${n} fits in 120 bytes`);
    assert.equal(names.filter((n) => n.startsWith('lll') && n.endsWith('.txt')).length, 2, 'the long names keep their extension');
    assert.deepEqual(names.map((n) => readFileSync(join(dir, n), 'utf8')).sort(), CLASHING.map(([, text]) => text).sort(), 'each holds its own content');
    assert.ok(names.includes('Report.txt') || names.includes('report.txt'), 'one report keeps its name');
    return names;
  }

  function expectationWithoutClash() {
    const e = snapshotExpectation(t);
    for (const k of [...e.files.keys()]) if (k.startsWith(`${upn}/OneDrive/clash/`)) e.files.delete(k);
    e.dirs.delete(`${upn}/OneDrive/clash`);
    return e;
  }

  let cliNames: string[] = [];
  let cliTree: string[] = [];

  test('CLI: files named ".", "..", two long names with one 120-byte prefix and a case-only pair are all restored', async () => {
    const target = join(suite.work, 'cli');
    const r = await suite.cli(['restore', '--tenant', TENANT, '--json', target], t.password);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { files: number; failures: unknown[] };
    assert.deepEqual(out.failures, []);
    assert.equal(out.files, expectedFiles, 'the count includes every clashing file');
    cliTree = walk(target);
    cliNames = checkClashFolder(target);
    rmSync(join(target, upn, 'OneDrive', 'clash'), { recursive: true });
    assertRestoreMatches(target, expectationWithoutClash());
  });

  test('HTTP zip: the same names as the CLI; the zip and its rows are deleted when the link expires, then 410', async () => {
    host = await startFunctionsHost(suite.processEnv({ RESTORE_LINK_MINUTES: '0.5', RESTORE_POLL_SECONDS: '1' }), join(suite.work, 'durable'));
    const start = await getJson(`${host.origin}/api/restores`, { method: 'POST', body: JSON.stringify({ tenant: TENANT, password: t.password }) });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const id = String(start.body.id);
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 600; i++) {
      status = (await getJson(`${host.origin}/api/restores/${id}`)).body;
      if (status.runtimeStatus === 'Completed' || status.runtimeStatus === 'Failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status));
    assert.equal(status.files, expectedFiles);
    assert.deepEqual(status.failures, []);
    const zip = await fetch(String(status.downloadUrl));
    assert.equal(zip.status, 200);
    const target = join(suite.work, 'zip');
    await unzipBuffer(Buffer.from(await zip.arrayBuffer()), target);
    assert.deepEqual(walk(target), cliTree, 'the zip holds the same paths as the CLI restore');
    assert.deepEqual(checkClashFolder(target), cliNames);

    // While the link lasts, the session and the plan are already gone: only the zip's record is left.
    const rows = async () => {
      const out: string[] = [];
      for await (const r of suite.storage.tables.query(`m365backup${TENANT}restores`)) out.push(r.partitionKey);
      return out.sort();
    };
    assert.deepEqual(await rows(), ['zip']);
    const blobs = async () => {
      const out: string[] = [];
      for await (const b of suite.storage.blobs.list(`m365backup${TENANT}-restores`)) out.push(b.name);
      return out;
    };
    assert.deepEqual(await blobs(), [`${id}.zip`]);

    const done = await waitForInstance(host.origin, id, 180_000);
    assert.equal(done.runtimeStatus, 'Completed', JSON.stringify(done));
    assert.equal((done.customStatus as { phase: string }).phase, 'expired');
    assert.deepEqual(await blobs(), [], 'the zip is deleted when its link expires');
    assert.deepEqual(await rows(), []);
    const gone = await getJson(`${host.origin}/api/restores/${id}`);
    assert.equal(gone.status, 410, JSON.stringify(gone.body));
    assert.equal((gone.body.error as { code: string }).code, 'GONE');
    assert.ok([403, 404].includes((await fetch(String(status.downloadUrl))).status), 'the old link reads nothing');

    // A restore that could not end itself (terminated, crashed) leaves an expired session: the hourly timer sweeps it.
    const { repo } = await new AppServices(loadSettings(suite.processEnv())).tenant(TENANT);
    await createRestoreSession(repo, await repo.unlock(t.password), { ttlMs: -1000 });
    assert.deepEqual(await rows(), ['session']);
    assert.equal((await fetch(`${host.origin}/admin/functions/sweepRestores`, { method: 'POST' })).status, 202);
    assert.deepEqual(await rows(), []);
  });

  test('one damaged item row fails only that item: named, the rest restored, exit 3', async () => {
    await host?.stop();
    host = undefined;
    const services = new AppServices(loadSettings(suite.processEnv()));
    const { repo } = await services.tenant(TENANT);
    const user = [...t.tenant.users.values()].find((u) => u.user.hasMailbox && u.mailbox.events.size > 0)!;
    const partition = new Catalog(repo, servicePartition(TENANT, user.user.id, 'calendar')).partition;
    const items = `m365backup${TENANT}items`;
    let victim: (Record<string, unknown> & { partitionKey: string; rowKey: string; etag: string }) | undefined;
    for await (const row of suite.storage.tables.query(items, { filter: `PartitionKey ge '${partition}-' and PartitionKey lt '${partition}.'` }))
      if (!row.rowKey.includes('~')) victim ??= row;
    assert.ok(victim, 'a calendar item row to damage');
    const { etag: _e, ...original } = victim;
    const d0 = Buffer.from(victim.d0 as Uint8Array);
    d0[10]! ^= 0x01;
    await suite.storage.tables.upsert(items, { ...original, d0 });
    try {
      const target = join(suite.work, 'damaged');
      const r = await suite.cli(['restore', '--tenant', TENANT, '--json', target], t.password);
      assert.equal(r.code, 3, r.stderr);
      const out = JSON.parse(r.stdout) as { files: number; failures: { path: string; reason: string }[] };
      assert.equal(out.failures.length, 1, JSON.stringify(out.failures));
      assert.ok(out.failures[0]!.path.includes(`${victim.partitionKey}/${victim.rowKey}`), 'the failure names the row');
      assert.match(out.failures[0]!.reason, /altered or is corrupted/);
      assert.equal(out.files, expectedFiles - 1, 'every other item is restored');
      const restored = walk(target).filter((p) => !p.endsWith('_items.json'));
      assert.equal(restored.length, expectedFiles - 1);
      const calendar = restored.filter((p) => p.startsWith(`${user.user.userPrincipalName}/Calendar/`));
      assert.equal(calendar.length, user.mailbox.events.size - 1);
    } finally {
      await suite.storage.tables.upsert(items, original);
    }
  });
});
