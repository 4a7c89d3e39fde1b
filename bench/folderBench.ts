/**
 * `npm run bench`: m365-backup (to an Azurite it starts) against restic (Debian package, local
 * repository) on the same seeded data, in alternating order: a first backup of a 1 GiB mixed
 * folder, an incremental after ~5% of bytes changed, and an unchanged run. Prints medians and ratios.
 * Environment: BENCH_GIB (default 1), BENCH_TRIALS (default 3), BENCH_DIR (default a temp folder).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite } from '../shared/local';
import { createDataset, deriveVersion2 } from './dataset';
import { cpuSeconds, measure, median, type Measured } from './measure';

const MB = 1e6;
const CLI = join(__dirname, '..', 'cli', 'main.js');

type Step = 'first' | 'incremental' | 'unchanged';
const STEPS: Step[] = ['first', 'incremental', 'unchanged'];
interface Sample {
  wallMs: number;
  cpuS: number;
  /** CPU seconds the storage emulator spent meanwhile (m365-backup only; restic writes a local folder). */
  storageCpuS: number;
  peakRssMiB: number;
  addedBytes: number;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

function check(m: Measured, what: string): Measured {
  if (m.code !== 0) throw new Error(`${what} failed (${m.code}): ${m.stderr.slice(-2000)}`);
  return m;
}

async function main(): Promise<void> {
  try {
    execFileSync('restic', ['version'], { stdio: 'ignore' });
  } catch {
    console.error('restic is not installed: apt-get update && apt-get install -y restic');
    process.exitCode = 2;
    return;
  }
  const gib = Number(process.env.BENCH_GIB ?? 1);
  const trials = Number(process.env.BENCH_TRIALS ?? 3);
  const base = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'm365b-bench-'));
  mkdirSync(base, { recursive: true });
  const v1 = join(base, 'v1');
  const v2 = join(base, 'v2');
  const current = join(base, 'current');
  console.log(`Creating the dataset (${gib} GiB) in ${base} ...`);
  const d = createDataset(v1, gib * 1024 ** 3, 2026);
  deriveVersion2(v1, v2, d, 2027);
  console.log(`  ${d.files.length} files, ${(d.bytes / MB).toFixed(0)} MB; version 2 changes ~5% of bytes`);

  const azurite = await startAzurite({ location: join(base, 'azurite') });
  const m365Env = { PATH: process.env.PATH, AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, M365_BACKUP_DATA_DIR: join(base, 'm365-data') };
  execFileSync(process.execPath, [CLI, 'init', '--repository', 'benchinit'], { env: { ...m365Env, M365_BACKUP_PASSWORD: 'bench' } });
  const results: Record<string, Record<Step, Sample[]>> = { 'm365-backup': { first: [], incremental: [], unchanged: [] }, restic: { first: [], incremental: [], unchanged: [] } };

  const runM365 = async (trial: number) => {
    const repo = ['--repository', `bench${trial}`];
    check(await measure(process.execPath, [CLI, 'init', ...repo], { ...m365Env, M365_BACKUP_PASSWORD: 'bench' }), 'm365 init');
    const out: Sample[] = [];
    for (const step of STEPS) {
      if (step === 'incremental') swap(v2);
      const storageBefore = cpuSeconds(azurite.pid);
      const m = check(await measure(process.execPath, [CLI, 'backup', current, '--json', '--quiet', ...repo], m365Env), `m365 ${step}`);
      const j = JSON.parse(m.stdout) as { storedBytes: number; peakRssMiB: number };
      out.push({ wallMs: m.wallMs, cpuS: m.cpuS, storageCpuS: cpuSeconds(azurite.pid) - storageBefore, peakRssMiB: Math.max(m.peakRssMiB, j.peakRssMiB), addedBytes: j.storedBytes });
    }
    return out;
  };
  const runRestic = async (trial: number) => {
    const repo = join(base, `restic-${trial}`);
    const env = { PATH: process.env.PATH, RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: join(base, 'restic-cache'), HOME: base };
    check(await measure('restic', ['-r', repo, 'init', '--quiet'], env), 'restic init');
    const out: Sample[] = [];
    for (const step of STEPS) {
      if (step === 'incremental') swap(v2);
      const before = dirBytes(repo);
      const m = check(await measure('restic', ['-r', repo, 'backup', current, '--quiet', '--ignore-inode', '--ignore-ctime'], env), `restic ${step}`);
      out.push({ wallMs: m.wallMs, cpuS: m.cpuS, storageCpuS: 0, peakRssMiB: m.peakRssMiB, addedBytes: dirBytes(repo) - before });
    }
    rmSync(repo, { recursive: true, force: true });
    return out;
  };
  // `current` is version 1 or 2 by renaming, so both tools always back up the same path.
  let inCurrent: string | undefined;
  function swap(to: string): void {
    if (inCurrent) renameSync(current, inCurrent);
    renameSync(to, current);
    inCurrent = to;
  }

  try {
    for (let t = 0; t < trials; t++) {
      const order = t % 2 === 0 ? (['m365-backup', 'restic'] as const) : (['restic', 'm365-backup'] as const);
      for (const tool of order) {
        swap(v1);
        const samples = tool === 'restic' ? await runRestic(t) : await runM365(t);
        samples.forEach((s, i) => results[tool]![STEPS[i]!].push(s));
        console.log(`  trial ${t + 1} ${tool.padEnd(11)} ${samples.map((s, i) => `${STEPS[i]} ${(s.wallMs / 1000).toFixed(2)} s`).join(', ')}`);
      }
    }
  } finally {
    if (inCurrent) renameSync(current, inCurrent);
    await azurite.stop();
  }

  console.log('');
  console.log(`| step | tool | wall s (median) | MB/s | CPU s (tool) | CPU s (Azurite) | bytes added MB | peak RSS MiB |`);
  console.log(`|---|---|---|---|---|---|---|---|`);
  const med = (tool: string, step: Step, k: keyof Sample) => median(results[tool]![step].map((s) => s[k]));
  for (const step of STEPS)
    for (const tool of ['m365-backup', 'restic']) {
      const wall = med(tool, step, 'wallMs') / 1000;
      const size = step === 'first' ? d.bytes : dirBytes(v2);
      const storage = tool === 'restic' ? '—' : med(tool, step, 'storageCpuS').toFixed(1);
      console.log(
        `| ${step} | ${tool} | ${wall.toFixed(2)} | ${(size / MB / wall).toFixed(0)} | ${med(tool, step, 'cpuS').toFixed(1)} | ${storage} | ${(med(tool, step, 'addedBytes') / MB).toFixed(1)} | ${med(tool, step, 'peakRssMiB').toFixed(0)} |`,
      );
    }
  console.log('');
  console.log('Ratios m365-backup / restic (targets: first <= 1.0, incremental <= 0.8, bytes added on the incremental <= 0.8, unchanged <= 1.0, peak RSS <= 512 MiB):');
  for (const step of STEPS)
    console.log(
      `  ${step.padEnd(11)} wall ${(med('m365-backup', step, 'wallMs') / med('restic', step, 'wallMs')).toFixed(2)}x, ` +
        `own CPU ${(med('m365-backup', step, 'cpuS') / Math.max(0.01, med('restic', step, 'cpuS'))).toFixed(2)}x`,
    );
  console.log(`  incremental bytes added ${(med('m365-backup', 'incremental', 'addedBytes') / Math.max(1, med('restic', 'incremental', 'addedBytes'))).toFixed(2)}x`);
  console.log(`  m365-backup peak RSS ${Math.max(...STEPS.map((s) => med('m365-backup', s, 'peakRssMiB')))} MiB`);
  if (!process.env.BENCH_DIR) rmSync(base, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
