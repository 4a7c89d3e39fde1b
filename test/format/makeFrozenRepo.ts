import { createHash } from 'node:crypto';
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { LocalKeyProvider, TEST_ARGON2 } from '../../shared/crypto';
import { BLOOM_BLOB, Repository, repositoryLayout } from '../../shared/repo';
import { SeededRandom } from '../../shared/local';
import { startM365Suite } from '../support/m365';
import { runCli, type CliEnv } from '../support/cli';
import { dumpRepository } from './frozenDump';
import { FROZEN_REPO_DIR } from './paths';

/**
 * npm run make:frozen-repo: builds test/fixtures/frozen-repo once. Never run by npm test, and never
 * re-run to make frozenRepo.test.ts pass: the committed fixture is what every future version must
 * open, list, verify and restore byte-exact. Regenerating it is only for a new format version,
 * next to (not instead of) the old fixture.
 *
 * The content is deterministic (seeded bytes, fixed mtimes); keys, nonces and pack IDs are random.
 * A small chunker (16/64/256 KiB) and pack target (128 KiB) make the ~300 KB file several chunks
 * in several packs, so chunk boundaries, packs and dedup across snapshots are all exercised.
 * Not dumped: lock blobs (none outlive a run) and the Bloom filter blob, a cache of 1.2 MB of mostly
 * zeros that no reader needs (its layout is pinned by the vectors instead).
 */
export const FROZEN = {
  repository: 'm365backup',
  partition: 'frozen',
  password: 'frozen-repo test password ✓ (test data, not a secret)',
  chunker: { minBytes: 16 * 1024, avgBytes: 64 * 1024, maxBytes: 256 * 1024 },
  packTargetBytes: 128 * 1024,
};

const MTIME = new Date('2026-01-02T03:04:05.678Z');
// A later mtime for what snapshot 2 changes: a file with the same path, size, mtime and mode is not re-read.
const MTIME2 = new Date('2026-02-03T04:05:06.789Z');

export interface ManifestEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size?: number;
  sha256?: string;
  mode?: number;
  mtimeMs?: number;
  target?: string;
}

function write(root: string, path: string, data: Buffer | string, mtime = MTIME): void {
  const p = join(root, ...path.split('/'));
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, data, { mode: 0o644 });
  utimesSync(p, mtime, mtime);
}

export function describeTree(root: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      const rel = relative(root, p).split(sep).join('/');
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.push({ path: rel, type: 'symlink', target: readlinkSync(p) });
      else if (st.isDirectory()) {
        out.push({ path: rel, type: 'dir' });
        walk(p);
      } else {
        const data = readFileSync(p);
        out.push({ path: rel, type: 'file', size: data.length, sha256: createHash('sha256').update(data).digest('hex'), mode: st.mode & 0o777, mtimeMs: Math.round(st.mtimeMs) });
      }
    }
  };
  walk(root);
  return out;
}

export const FROZEN_TENANT = {
  name: 'frozen',
  seed: 25,
  shape: { users: 2, filesPerUser: 3, maxFileBytes: 24 * 1024, messagesPerUser: 3, eventsPerUser: 2, contactsPerUser: 2 },
};

/** What a tenant restore must give back, independent of how restore names files: content hashes per user and area. */
export function tenantContent(root: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of describeTree(root)) {
    if (e.type !== 'file') continue;
    const [user, area] = e.path.split('/');
    if (area === 'OneDrive' || e.path.endsWith('.eml')) (out[`${user}/${area}`] ??= []).push(e.sha256!);
  }
  for (const k of Object.keys(out)) out[k]!.sort();
  return out;
}

async function main(): Promise<void> {
  // The simulator's suite: one Azurite for the folder repository, the tenant registry and the tenant's repository.
  const suite = await startM365Suite([FROZEN_TENANT]);
  const storage = suite.storage;
  const work = mkdtempSync(join(tmpdir(), 'm365b-frozen-'));
  try {
    const dataDir = join(suite.work, 'data');
    const env: CliEnv = { connectionString: storage.connectionString, dataDir, password: FROZEN.password };
    const keyFile = join(dataDir, 'keys', 'local.key');
    const provider = LocalKeyProvider.open(keyFile, { create: true });
    // In process, because `init` has no option for a custom chunker (the CLI then reads it from the config row).
    await Repository.init({ blobs: storage.blobs, tables: storage.tables }, provider, {
      name: FROZEN.repository,
      password: FROZEN.password,
      argon2: TEST_ARGON2,
      chunker: FROZEN.chunker,
      packTargetBytes: FROZEN.packTargetBytes,
    });

    const src = join(work, 'src');
    const rnd = new SeededRandom(20261201);
    const big = rnd.bytes(300 * 1024);
    write(src, 'hello.txt', 'Hello, frozen repository!\n');
    write(src, 'empty.bin', Buffer.alloc(0));
    write(src, 'docs/big.bin', big);
    write(src, 'docs/notes.txt', 'Compressible notes. '.repeat(1000));
    write(src, 'Ünïcødé ✓/naïve café.md', '# Ünïcødé\n\nCafé, naïve, 日本語, emoji 🎉.\n');
    write(src, 'with space/a file.txt', 'spaces in names\n');
    mkdirSync(join(src, 'empty-dir'));
    symlinkSync('hello.txt', join(src, 'link-to-hello'));
    for (const d of ['docs', 'Ünïcødé ✓', 'with space', 'empty-dir']) utimesSync(join(src, d), MTIME, MTIME);

    const snapshots: { seq: number; entries: ManifestEntry[] }[] = [];
    const backup = async () => {
      const r = await runCli(['backup', src, '--partition', FROZEN.partition, '--json'], env);
      if (r.code !== 0) throw new Error(`backup failed: ${r.stderr}`);
      snapshots.push({ seq: snapshots.length + 1, entries: describeTree(src) });
    };
    await backup();

    // Second snapshot: 4 KiB changed in the middle of the big file, an edit, a delete, a rename, an add.
    const edited = Buffer.from(big);
    rnd.bytes(4096).copy(edited, 150 * 1024);
    write(src, 'docs/big.bin', edited, MTIME2);
    write(src, 'hello.txt', 'Hello again, frozen repository!\n', MTIME2);
    unlinkSync(join(src, 'docs', 'notes.txt'));
    renameSync(join(src, 'Ünïcødé ✓', 'naïve café.md'), join(src, 'Ünïcødé ✓', 'renamed café.md'));
    write(src, 'new/添加.txt', 'added in snapshot 2\n', MTIME2);
    for (const d of ['docs', 'Ünïcødé ✓', 'new']) utimesSync(join(src, d), MTIME2, MTIME2);
    await backup();

    const listing = await runCli(['snapshots', '--partition', FROZEN.partition, '--json'], env);
    if (listing.code !== 0) throw new Error(`snapshots failed: ${listing.stderr}`);
    const verify = await runCli(['verify', '--read-data'], env);
    if (verify.code !== 0) throw new Error(`verify failed: ${verify.stdout}${verify.stderr}`);

    // A tiny Microsoft 365 tenant from the simulator: one backup of every service of two users.
    const tenant = suite.tenants.get(FROZEN_TENANT.name)!;
    const added = await suite.addTenant(FROZEN_TENANT.name);
    if (added.code !== 0) throw new Error(`tenant add failed: ${added.stderr}`);
    const tb = await suite.cli(['backup', '--tenant', FROZEN_TENANT.name, '--json']);
    if (tb.code !== 0) throw new Error(`tenant backup failed: ${tb.stdout}${tb.stderr}`);
    const tenantListing = await suite.cli(['snapshots', '--tenant', FROZEN_TENANT.name, '--json']);
    if (tenantListing.code !== 0) throw new Error(`tenant snapshots failed: ${tenantListing.stderr}`);
    const restored = join(work, 'tenant-restore');
    const tr = await suite.cli(['restore', '--tenant', FROZEN_TENANT.name, restored], tenant.password);
    if (tr.code !== 0) throw new Error(`tenant restore failed: ${tr.stdout}${tr.stderr}`);
    const tenantRepository = `${FROZEN.repository}${FROZEN_TENANT.name}`;
    const tv = await runCli(['verify', '--read-data', '--repository', tenantRepository, '--json'], { ...env, password: tenant.password });

    for (const old of ['blobs', 'tables', 'keys', 'manifest.json']) rmSync(join(FROZEN_REPO_DIR, old), { recursive: true, force: true }); // README.md stays
    mkdirSync(join(FROZEN_REPO_DIR, 'keys'), { recursive: true });
    const layouts = [repositoryLayout(FROZEN.repository), repositoryLayout(tenantRepository)];
    const tables = [...layouts.flatMap((l) => [l.configTable, l.chunkTable, l.packTable, l.snapshotTable, l.itemTable]), `${FROZEN.repository}tenants`];
    const containers = layouts.flatMap((l) => [l.packContainer, l.metaContainer]);
    await dumpRepository(storage, containers, tables, FROZEN_REPO_DIR, (_c, name) => name.startsWith('locks/') || name === BLOOM_BLOB);
    copyFileSync(keyFile, join(FROZEN_REPO_DIR, 'keys', 'local.key'));
    const manifest = {
      about: 'A repository written by m365-backup format version 1 (see README.md here). Every future version must open, list, verify and restore it byte-exact.',
      formatVersion: 1,
      generatedAt: new Date().toISOString(),
      generatedBy: 'npm run make:frozen-repo (test/format/makeFrozenRepo.ts)',
      repository: FROZEN.repository,
      keyFile: 'keys/local.key',
      password: FROZEN.password,
      argon2: TEST_ARGON2,
      chunker: FROZEN.chunker,
      packTargetBytes: FROZEN.packTargetBytes,
      folder: { partition: FROZEN.partition, snapshots, listing: JSON.parse(listing.stdout) as unknown },
      tenant: {
        name: FROZEN_TENANT.name,
        repository: tenantRepository,
        password: tenant.password,
        listing: JSON.parse(tenantListing.stdout) as unknown,
        content: tenantContent(restored),
        // What `verify --read-data` said of the tenant repository when it was written (exit code and JSON).
        verifyAtWrite: { code: tv.code, result: tv.stdout ? (JSON.parse(tv.stdout) as unknown) : tv.stderr },
      },
    };
    writeFileSync(join(FROZEN_REPO_DIR, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
    console.log(`wrote ${FROZEN_REPO_DIR}`);
  } finally {
    await suite.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module)
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
