#!/usr/bin/env node
/**
 * `npm run demo:folder`: the folder use case on embedded defaults, with no Azure at all. An embedded Azurite, the
 * local key provider, a seeded demo folder: full backup, a day of changes, an incremental, restores
 * of both snapshots verified byte for byte, verify --read-data, and a summary.
 * (`npm start` runs the Microsoft 365 demo: cli/demo.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { backupFolder } from '../shared/backup';
import { LocalKeyProvider, TEST_ARGON2, DEFAULT_ARGON2 } from '../shared/crypto';
import { startAzurite } from '../shared/local';
import { Repository, verifyRepository, type SnapshotRecord } from '../shared/repo';
import { diffManifests, manifest, restoreFolder } from '../shared/restore';
import { azureStores } from '../shared/storage';
import { changeDemoFolder, createDemoFolder } from './demoData';
import { formatBytes, formatDuration } from './format';
import { ProgressBar } from './progressBar';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

async function main(): Promise<number> {
  const once = process.argv.includes('--once');
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'm365-backup-demo-'));
  const checks: Check[] = [];
  const log = (s: string) => console.log(s);
  log('m365-backup demo on embedded defaults: Azurite, local key file, a seeded folder.');
  const azurite = await startAzurite({ location: join(work, 'azurite') });
  try {
    const connection = { kind: 'connectionString' as const, connectionString: azurite.connectionString };
    const stores = azureStores(connection);
    const provider = LocalKeyProvider.open(join(work, 'keys', 'local.key'), { create: true });
    const password = randomBytes(18).toString('base64url'); // never printed
    log(`  Azurite on 127.0.0.1:${azurite.blobPort} (blob) and :${azurite.tablePort} (table); data in ${work}`);
    await Repository.init(stores, provider, { name: 'demo', password, argon2: process.env.M365_BACKUP_KDF === 'test' ? TEST_ARGON2 : DEFAULT_ARGON2 });
    const repo = await Repository.open(stores, provider, 'demo');

    const source = join(work, 'home');
    createDemoFolder(source);
    const day1 = await manifest(source);
    const snapshots: SnapshotRecord[] = [];
    for (const [label, prepare] of [
      ['full backup', () => undefined],
      ['incremental', () => changeDemoFolder(source)],
    ] as const) {
      prepare();
      const bar = new ProgressBar(!!process.stderr.isTTY);
      const { snapshot, failures } = await backupFolder(repo, { partition: 'demo-user', source, onProgress: bar.update }).finally(() => bar.done());
      snapshots.push(snapshot);
      const s = snapshot.stats;
      log(
        `  ${label.padEnd(12)} snapshot ${snapshot.seq}: ${s.items} items, ${formatBytes(s.bytes)}; ${s.changedItems} new/changed, ${s.deletedItems} deleted; ` +
          `stored ${formatBytes(s.storedBytes)} new in ${formatDuration(s.durationMs)} (${formatBytes((s.newBytes / Math.max(1, s.durationMs)) * 1000)}/s)`,
      );
      checks.push({ name: `${label} finished without failed items`, ok: failures.length === 0, detail: failures.map((f) => f.path).join(', ') });
    }
    const day2 = await manifest(source);

    const key = await repo.unlock(password);
    for (const [seq, expected] of [[1, day1], [2, day2]] as const) {
      const target = join(work, `restore-${seq}`);
      const bar = new ProgressBar(!!process.stderr.isTTY);
      const r = await restoreFolder(repo, key, { partition: 'demo-user', snapshot: String(seq), target, onProgress: bar.update }).finally(() => bar.done());
      const diff = diffManifests(expected, await manifest(target));
      log(`  restore      snapshot ${seq}: ${r.files} files, ${formatBytes(r.bytes)}: ${diff.length === 0 ? 'identical to the folder as it was' : 'DIFFERS'}`);
      checks.push({ name: `snapshot ${seq} restores byte-identical`, ok: diff.length === 0 && r.failures.length === 0, detail: diff.slice(0, 3).join('; ') });
    }
    const v = await verifyRepository(repo, { privateKey: key });
    log(`  verify --read-data: ${v.packs} packs, ${v.chunks} chunks, ${formatBytes(v.bytesRead)} decrypted, ${v.issues.length} problem(s)`);
    checks.push({ name: 'verify --read-data is clean', ok: v.issues.length === 0, detail: v.issues.slice(0, 3).map((i) => `${i.object} ${i.problem}`).join('; ') });

    const logical = snapshots.reduce((n, s) => n + s.stats.bytes, 0);
    const stored = snapshots.reduce((n, s) => n + s.stats.storedBytes, 0);
    log('');
    log('Summary');
    log(`  protected ${formatBytes(logical)} across ${snapshots.length} snapshots in ${formatBytes(stored)} of encrypted packs (dedup+compression ratio ${(logical / Math.max(1, stored)).toFixed(2)}x)`);
    log(`  total time ${formatDuration(Date.now() - started)}`);
    for (const c of checks) log(`  ${c.ok ? 'PASS' : 'FAIL'} ${c.name}${c.ok || !c.detail ? '' : `: ${c.detail}`}`);
    const allOk = checks.every((c) => c.ok);
    log(allOk ? 'All checks passed.' : 'Some checks FAILED.');
    if (!once) log('(The HTTP API and the Microsoft 365 tenant simulator are not part of this release yet; exiting.)');
    return allOk ? 0 : 1;
  } finally {
    await azurite.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(`demo failed: ${(e as Error)?.message ?? e}`);
    process.exitCode = 1;
  },
);
