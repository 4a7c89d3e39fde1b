import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCliSuite, type CliSuite } from '../support/suite';
import { runCli } from '../support/cli';
import { describeTree, tenantContent, type ManifestEntry } from './makeFrozenRepo';
import { loadRepository } from './frozenDump';
import { repositoryLayout } from '../../shared/repo';
import { FROZEN_REPO_DIR } from './paths';

/**
 * A repository written once by format version 1 (test/fixtures/frozen-repo, made by
 * `npm run make:frozen-repo`) is loaded into a fresh Azurite; the product's CLI, as it is now, must
 * open it, list it, verify it (structure and data) and restore every snapshot byte-exact.
 * If this fails, existing users' backups would no longer open: fix the reader, never the fixture.
 */
interface Manifest {
  repository: string;
  keyFile: string;
  password: string;
  folder: { partition: string; snapshots: { seq: number; entries: ManifestEntry[] }[]; listing: Record<string, unknown>[] };
  tenant: { name: string; repository: string; password: string; listing: { user: string; service: string; items: number }[]; content: Record<string, string[]> };
}

const manifest = JSON.parse(readFileSync(join(FROZEN_REPO_DIR, 'manifest.json'), 'utf8')) as Manifest;

describe('frozen repository (format version 1)', () => {
  let suite: CliSuite;
  const cli = (args: string[]) => runCli(args, suite.env);
  const tenantCli = (args: string[]) => runCli(args, { ...suite.env, password: manifest.tenant.password });

  before(async () => {
    suite = await startCliSuite('frozen', manifest.password);
    const loaded = await loadRepository(suite.storage, FROZEN_REPO_DIR);
    assert.ok(loaded.blobs > 0 && loaded.rows > 0);
    mkdirSync(join(suite.env.dataDir, 'keys'), { recursive: true });
    copyFileSync(join(FROZEN_REPO_DIR, manifest.keyFile), join(suite.env.dataDir, 'keys', 'local.key'));
  });
  after(async () => suite?.stop());

  test('opens and lists its snapshots', async () => {
    const r = await cli(['snapshots', '--partition', manifest.folder.partition, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { snapshot: number; status: string }[];
    assert.deepEqual(rows.map((s) => s.snapshot), manifest.folder.snapshots.map((s) => s.seq));
    for (const s of rows) assert.equal(s.status, 'complete');
    // The listing as format version 1's writer printed it (fields added later are ignored here).
    for (const [i, expected] of manifest.folder.listing.entries()) for (const [k, v] of Object.entries(expected)) assert.deepEqual((rows[i] as Record<string, unknown>)[k], v, k);
  });

  test('ls lists exactly the recorded entries of every snapshot', async () => {
    for (const s of manifest.folder.snapshots) {
      const r = await cli(['ls', String(s.seq), '--partition', manifest.folder.partition, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const listed = (JSON.parse(r.stdout) as { entries: { path: string; type: string; size?: number; target?: string }[] }).entries.filter((e) => e.path !== '.');
      const byPath = new Map(listed.map((e) => [e.path, e]));
      assert.deepEqual([...byPath.keys()].sort(), s.entries.map((e) => e.path).sort(), `snapshot ${s.seq}`);
      for (const e of s.entries) {
        const l = byPath.get(e.path)!;
        assert.equal(l.type, e.type, e.path);
        if (e.type === 'file') assert.equal(l.size, e.size, e.path);
        if (e.type === 'symlink') assert.equal(l.target, e.target, e.path);
      }
    }
  });

  test('verify and verify --read-data are clean', async () => {
    const structural = await cli(['verify', '--json']);
    assert.equal(structural.code, 0, structural.stdout + structural.stderr);
    const data = await cli(['verify', '--read-data', '--json']);
    assert.equal(data.code, 0, data.stdout + data.stderr);
  });

  test('every snapshot restores byte-exact (SHA-256, size, mode, mtime, links, empty files and folders)', async () => {
    for (const s of manifest.folder.snapshots) {
      const target = join(suite.work, `restore-${s.seq}`);
      const r = await cli(['restore', String(s.seq), target, '--partition', manifest.folder.partition]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(describeTree(target), s.entries, `snapshot ${s.seq}`);
    }
  });

  test('the Microsoft 365 tenant: snapshots of every user and service are listed', async () => {
    const r = await tenantCli(['snapshots', '--tenant', manifest.tenant.name, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.equal(rows.length, manifest.tenant.listing.length);
    for (const [i, expected] of manifest.tenant.listing.entries()) for (const [k, v] of Object.entries(expected)) assert.deepEqual(rows[i]![k], v, k);
  });

  test('the Microsoft 365 tenant: ls shows every item of every user and service', async () => {
    for (const s of manifest.tenant.listing) {
      const r = await tenantCli(['ls', '--tenant', manifest.tenant.name, '--user', s.user, '--service', s.service, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const entries = (JSON.parse(r.stdout) as { entries: unknown[] }).entries;
      assert.equal(entries.length, s.items, `${s.user} ${s.service}`);
    }
  });

  test('the Microsoft 365 tenant repository verifies clean, data included', async () => {
    const r = await tenantCli(['verify', '--read-data', '--repository', manifest.tenant.repository, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test('the Microsoft 365 tenant restores its files and MIME byte-exact', async () => {
    const target = join(suite.work, 'tenant-restore');
    const r = await tenantCli(['restore', '--tenant', manifest.tenant.name, target]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // Compared by content, not by name: how restore names files is not part of the repository format.
    assert.deepEqual(tenantContent(target), manifest.tenant.content);
  });

  // Last, because it replaces the folder repository's tables: the catalog and pack-index blobs of
  // version 1 are enough to rebuild them, and the rebuilt index restores the same bytes.
  test('the folder repository rebuilds its index from its blobs and still restores byte-exact', async () => {
    const layout = repositoryLayout(manifest.repository);
    for (const t of [layout.chunkTable, layout.packTable, layout.snapshotTable, layout.itemTable]) await suite.storage.tables.deleteTable(t);
    const rebuilt = await runCli(['rebuild-index'], { ...suite.env, password: undefined });
    assert.equal(rebuilt.code, 0, rebuilt.stdout + rebuilt.stderr);
    for (const s of manifest.folder.snapshots) {
      const target = join(suite.work, `rebuilt-${s.seq}`);
      const r = await cli(['restore', String(s.seq), target, '--partition', manifest.folder.partition]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(describeTree(target), s.entries, `snapshot ${s.seq} after rebuild-index`);
    }
    const v = await cli(['verify', '--read-data']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });
});

