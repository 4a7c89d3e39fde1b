/**
 * `npm run bench`: m365-backup (to an Azurite it starts) against restic (Debian package) on the same
 * seeded data, in alternating order: a first backup of a 1 GiB mixed folder, an incremental after ~5%
 * of bytes changed, an unchanged run, then a restore of the first snapshot (the 1 GiB set) into an
 * empty folder. restic runs twice: to a local folder, and to the same Azurite through rclone (an
 * `azureblob` remote with `use_emulator`), so the storage cost is the same for both engines.
 * Before each timed step the step's input (the folder; for a restore or prune, the repository's files)
 * is read once, untimed, so no tool pays disk reads that another's run left uncached.
 * Prints medians and ratios.
 * Environment: BENCH_GIB (default 1), BENCH_TRIALS (default 3), BENCH_DIR (default a temp folder),
 * BENCH_TOOLS (comma-separated subset of m365-backup,restic,restic-azurite; default all),
 * BENCH_CPU_PROF (a folder: every m365-backup command writes a V8 CPU profile there, to find where time goes),
 * BENCH_AZURITE (`disk`, the default, or `memory`: Azurite keeps blobs in memory, so neither engine's
 * storage pays this machine's disk writes and read-backs, closer to remote storage whose disks are not ours).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, renameSync, rmSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type AzuriteInstance } from '../shared/local';
import { createDataset, deriveVersion2 } from './dataset';
import { cpuSeconds, measure, median, type Measured } from './measure';

const MB = 1e6;
const CLI = join(__dirname, '..', 'cli', 'main.js');
/** node arguments before the CLI: `--cpu-prof` when BENCH_CPU_PROF names a folder (NODE_OPTIONS refuses it). */
const NODE_ARGS = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];

type Step = 'first' | 'incremental' | 'unchanged' | 'restore' | 'prune';
const BACKUP_STEPS = ['first', 'incremental', 'unchanged'] as const;
/** prune: forget the older half of the snapshots (keep the last), then prune; "bytes" = bytes reclaimed. */
const STEPS: Step[] = [...BACKUP_STEPS, 'restore', 'prune'];
const ALL_TOOLS = ['m365-backup', 'restic', 'restic-azurite'] as const;
type Tool = (typeof ALL_TOOLS)[number];
interface Sample {
  wallMs: number;
  cpuS: number;
  /** CPU seconds the storage emulator spent meanwhile (tools writing to Azurite). */
  storageCpuS: number;
  peakRssMiB: number;
  /** Bytes the step added to the repository (backups), or restored (restore). */
  addedBytes: number;
}

const warmBuffer = Buffer.allocUnsafe(1024 * 1024);

/**
 * Reads every file under `dir` (untimed) so a step starts with its input in the page cache. This VM
 * drops its page cache now and then (seen: 1.4 GB cached with 22 GB free, and a backup's workers blocked
 * 3.8 s in read() for 1 GiB), which would otherwise charge disk reads to whichever tool runs next.
 */
function warm(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) warm(path);
    else if (e.isFile()) {
      const fd = openSync(path, 'r');
      try {
        while (readSync(fd, warmBuffer, 0, warmBuffer.length, null) > 0);
      } finally {
        closeSync(fd);
      }
    }
  }
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

function installed(cmd: string, hint: string): boolean {
  try {
    execFileSync(cmd, ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    console.error(`${cmd} is not installed: ${hint}`);
    return false;
  }
}

async function main(): Promise<void> {
  const tools = (process.env.BENCH_TOOLS?.split(',') ?? [...ALL_TOOLS]) as Tool[];
  if (tools.some((t) => !ALL_TOOLS.includes(t))) throw new Error(`BENCH_TOOLS names tools of ${ALL_TOOLS.join(', ')}`);
  if (tools.some((t) => t !== 'm365-backup') && !installed('restic', 'apt-get update && apt-get install -y restic')) return void (process.exitCode = 2);
  if (tools.includes('restic-azurite') && !installed('rclone', 'apt-get update && apt-get install -y rclone')) return void (process.exitCode = 2);
  const gib = Number(process.env.BENCH_GIB ?? 1);
  const trials = Number(process.env.BENCH_TRIALS ?? 3);
  const base = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'm365b-bench-'));
  mkdirSync(base, { recursive: true });
  const v1 = join(base, 'v1');
  const v2 = join(base, 'v2');
  const current = join(base, 'current');
  const restored = join(base, 'restored');
  console.log(`Creating the dataset (${gib} GiB) in ${base} ...`);
  const d = createDataset(v1, Math.round(gib * 1024 ** 3), 2026);
  deriveVersion2(v1, v2, d, 2027);
  console.log(`  ${d.files.length} files, ${(d.bytes / MB).toFixed(0)} MB; version 2 changes ~5% of bytes`);

  const azuriteMode = process.env.BENCH_AZURITE ?? 'disk';
  if (azuriteMode !== 'disk' && azuriteMode !== 'memory') throw new Error(`BENCH_AZURITE is disk or memory, not ${azuriteMode}`);
  const startStorage = () => startAzurite(azuriteMode === 'disk' ? { location: join(base, 'azurite') } : {});
  // A BENCH_DIR kept from an earlier run must not hand this one its repositories or keys.
  for (const dir of ['azurite', 'm365-data']) rmSync(join(base, dir), { recursive: true, force: true });
  let azurite: AzuriteInstance = await startStorage();
  console.log(`  Azurite keeps its data ${azuriteMode === 'disk' ? 'on disk' : 'in memory'} (BENCH_AZURITE=${azuriteMode}), a fresh one for every tool's trial`);
  const m365Env: NodeJS.ProcessEnv = { PATH: process.env.PATH, AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, M365_BACKUP_DATA_DIR: join(base, 'm365-data') };
  const results = Object.fromEntries(tools.map((t) => [t, Object.fromEntries(STEPS.map((s) => [s, [] as Sample[]]))])) as Record<Tool, Record<Step, Sample[]>>;
  // restic reaches Azurite through an rclone remote (restic 0.14's own Azure backend wants HTTPS host-style URLs).
  const rcloneConfig = join(base, 'rclone.conf');
  const pointAtStorage = () => {
    m365Env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
    writeFileSync(rcloneConfig, `[azurite]\ntype = azureblob\nuse_emulator = true\nendpoint = http://127.0.0.1:${azurite.blobPort}/devstoreaccount1\n`);
  };
  pointAtStorage();
  /**
   * An empty emulator for each tool's trial: Azurite slows down as it holds more (its metadata
   * database is rewritten whole as it grows), which made every later trial slower than the first.
   */
  const freshStorage = async () => {
    await azurite.stop();
    rmSync(join(base, 'azurite'), { recursive: true, force: true });
    azurite = await startStorage();
    pointAtStorage();
  };

  // What a restore or prune reads: restic's local folder and cache, or the emulator's files.
  const storageDirs = (resticDirs: string[]) => [...resticDirs, ...(azuriteMode === 'disk' ? [join(base, 'azurite')] : [])];
  const restoreInto = async (what: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, storage: boolean, inputs: string[]): Promise<Sample> => {
    rmSync(restored, { recursive: true, force: true });
    inputs.forEach(warm);
    const storageBefore = cpuSeconds(azurite.pid);
    const m = check(await measure(cmd, args, env), what);
    const bytes = dirBytes(restored);
    if (bytes !== d.bytes) throw new Error(`${what} restored ${bytes} bytes, not the ${d.bytes} of the set`);
    rmSync(restored, { recursive: true, force: true });
    return { wallMs: m.wallMs, cpuS: m.cpuS, storageCpuS: storage ? cpuSeconds(azurite.pid) - storageBefore : 0, peakRssMiB: m.peakRssMiB, addedBytes: bytes };
  };

  const runM365 = async (trial: number) => {
    const repo = ['--repository', `bench${trial}`];
    check(await measure(process.execPath, [...NODE_ARGS, CLI, 'init', ...repo], { ...m365Env, M365_BACKUP_PASSWORD: 'bench' }), 'm365 init');
    const out: Sample[] = [];
    for (const step of BACKUP_STEPS) {
      if (step === 'incremental') swap(v2);
      warm(current);
      const storageBefore = cpuSeconds(azurite.pid);
      const m = check(await measure(process.execPath, [...NODE_ARGS, CLI, 'backup', current, '--json', '--quiet', ...repo], m365Env), `m365 ${step}`);
      const j = JSON.parse(m.stdout) as { storedBytes: number; peakRssMiB: number };
      out.push({ wallMs: m.wallMs, cpuS: m.cpuS, storageCpuS: cpuSeconds(azurite.pid) - storageBefore, peakRssMiB: Math.max(m.peakRssMiB, j.peakRssMiB), addedBytes: j.storedBytes });
    }
    out.push(await restoreInto('m365 restore', process.execPath, [...NODE_ARGS, CLI, 'restore', '1', restored, '--json', '--quiet', ...repo], { ...m365Env, M365_BACKUP_PASSWORD: 'bench' }, true, storageDirs([])));
    // Packs were just written to Cool (30-day minimum): --delete-early, as restic deletes at once. The
    // password lets prune repack partly used packs, as restic does (its prune always has the key).
    storageDirs([]).forEach(warm);
    const storageBefore = cpuSeconds(azurite.pid);
    const p = check(await measure(process.execPath, [...NODE_ARGS, CLI, 'forget', '--keep-last', '1', '--prune', '--delete-early', '--json', '--quiet', ...repo], { ...m365Env, M365_BACKUP_PASSWORD: 'bench' }), 'm365 forget --prune');
    const pr = JSON.parse(p.stdout.slice(p.stdout.indexOf('{'))) as { reclaimBytes: number; repackedPacks: number; repackWrittenBytes: number };
    console.log(`  m365 prune: repacked ${pr.repackedPacks} pack(s) into ${(pr.repackWrittenBytes / MB).toFixed(1)} MB, reclaimed ${(pr.reclaimBytes / MB).toFixed(1)} MB`);
    out.push({ wallMs: p.wallMs, cpuS: p.cpuS, storageCpuS: cpuSeconds(azurite.pid) - storageBefore, peakRssMiB: p.peakRssMiB, addedBytes: pr.reclaimBytes });
    return out;
  };
  const runRestic = async (trial: number, onAzurite: boolean) => {
    const repo = onAzurite ? `rclone:azurite:restic-${trial}` : join(base, `restic-${trial}`);
    const env = { PATH: process.env.PATH, RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: join(base, `restic-cache-${onAzurite ? 'azurite' : 'local'}`), HOME: base, RCLONE_CONFIG: rcloneConfig };
    const size = async () => (onAzurite ? azuriteBytes(env, `azurite:restic-${trial}`) : dirBytes(repo));
    const tool = onAzurite ? 'restic-azurite' : 'restic';
    const resticDirs = () => [env.RESTIC_CACHE_DIR, ...(onAzurite ? [] : [repo])].filter((p) => statSync(p, { throwIfNoEntry: false }));
    check(await measure('restic', ['-r', repo, 'init', '--quiet'], env), `${tool} init`);
    const out: Sample[] = [];
    for (const step of BACKUP_STEPS) {
      if (step === 'incremental') swap(v2);
      const before = await size();
      warm(current);
      const storageBefore = cpuSeconds(azurite.pid);
      const m = check(await measure('restic', ['-r', repo, 'backup', current, '--quiet', '--ignore-inode', '--ignore-ctime'], env), `${tool} ${step}`);
      const storageCpuS = onAzurite ? cpuSeconds(azurite.pid) - storageBefore : 0;
      out.push({ wallMs: m.wallMs, cpuS: m.cpuS, storageCpuS, peakRssMiB: m.peakRssMiB, addedBytes: (await size()) - before });
    }
    // The first snapshot is the 1 GiB set; restic restores it under its absolute path.
    const snapshots = JSON.parse(execFileSync('restic', ['-r', repo, 'snapshots', '--json'], { env }).toString()) as { id: string; time: string }[];
    const first = snapshots.sort((a, b) => (a.time < b.time ? -1 : 1))[0]!.id;
    out.push(await restoreInto(`${tool} restore`, 'restic', ['-r', repo, 'restore', first, '--target', restored, '--quiet'], env, onAzurite, storageDirs(resticDirs())));
    const before = await size();
    storageDirs(resticDirs()).forEach(warm);
    const storageBefore = cpuSeconds(azurite.pid);
    const p = check(await measure('restic', ['-r', repo, 'forget', '--keep-last', '1', '--prune', '--quiet'], env), `${tool} forget --prune`);
    out.push({ wallMs: p.wallMs, cpuS: p.cpuS, storageCpuS: onAzurite ? cpuSeconds(azurite.pid) - storageBefore : 0, peakRssMiB: p.peakRssMiB, addedBytes: before - (await size()) });
    // A repository on Azurite goes with the emulator (the next trial gets an empty one).
    if (!onAzurite) rmSync(repo, { recursive: true, force: true });
    return out;
  };
  // `current` is version 1 or 2 by renaming, so every tool always backs up the same path.
  let inCurrent: string | undefined;
  function swap(to: string): void {
    if (inCurrent) renameSync(current, inCurrent);
    renameSync(to, current);
    inCurrent = to;
  }

  try {
    for (let t = 0; t < trials; t++) {
      // Rotate the order so no tool always runs first (a warm page cache, a quiet neighbour).
      const order = tools.map((_, i) => tools[(i + t) % tools.length]!);
      for (const tool of order) {
        if (tool !== 'restic') await freshStorage();
        swap(v1);
        const samples = tool === 'm365-backup' ? await runM365(t) : await runRestic(t, tool === 'restic-azurite');
        samples.forEach((s, i) => results[tool][STEPS[i]!].push(s));
        console.log(`  trial ${t + 1} ${tool.padEnd(14)} ${samples.map((s, i) => `${STEPS[i]} ${(s.wallMs / 1000).toFixed(2)} s`).join(', ')}`);
      }
    }
  } finally {
    if (inCurrent) renameSync(current, inCurrent);
    await azurite.stop();
  }

  console.log('');
  console.log(`| step | tool | wall s (median) | MB/s | CPU s (tool) | CPU s (Azurite) | bytes added (restored; prune: reclaimed) MB | peak RSS MiB |`);
  console.log(`|---|---|---|---|---|---|---|---|`);
  const med = (tool: Tool, step: Step, k: keyof Sample) => median(results[tool][step].map((s) => s[k]));
  for (const step of STEPS)
    for (const tool of tools) {
      const wall = med(tool, step, 'wallMs') / 1000;
      const size = step === 'first' || step === 'restore' || step === 'prune' ? d.bytes : dirBytes(v2);
      const storage = tool === 'restic' ? '—' : med(tool, step, 'storageCpuS').toFixed(1);
      console.log(
        `| ${step} | ${tool} | ${wall.toFixed(2)} | ${(size / MB / wall).toFixed(0)} | ${med(tool, step, 'cpuS').toFixed(1)} | ${storage} | ${(med(tool, step, 'addedBytes') / MB).toFixed(1)} | ${med(tool, step, 'peakRssMiB').toFixed(0)} |`,
      );
    }
  console.log('');
  const ratio = (step: Step, against: Tool, k: keyof Sample = 'wallMs') => (med('m365-backup', step, k) / Math.max(0.01, med(against, step, k))).toFixed(2);
  if (tools.includes('m365-backup')) {
    console.log('Ratios m365-backup / restic (targets: first <= 0.8 vs restic-azurite and <= 1.0 vs restic, incremental <= 0.8 vs restic,');
    console.log('bytes added on the incremental <= 0.8, unchanged <= 1.0, restore <= 1.0 vs restic-azurite, prune <= 1.0, peak RSS <= 512 MiB):');
    for (const against of tools.filter((t) => t !== 'm365-backup'))
      for (const step of STEPS) console.log(`  vs ${against.padEnd(14)} ${step.padEnd(11)} wall ${ratio(step, against)}x, own CPU ${ratio(step, against, 'cpuS')}x`);
    if (tools.includes('restic')) console.log(`  incremental bytes added vs restic ${ratio('incremental', 'restic', 'addedBytes')}x`);
    console.log(`  m365-backup peak RSS ${Math.max(...STEPS.map((s) => med('m365-backup', s, 'peakRssMiB')))} MiB (restore ${med('m365-backup', 'restore', 'peakRssMiB')} MiB)`);
  }
  if (!process.env.BENCH_DIR) rmSync(base, { recursive: true, force: true });
}

/** Bytes stored under an rclone path (restic's repository in Azurite). */
function azuriteBytes(env: NodeJS.ProcessEnv, path: string): number {
  try {
    return (JSON.parse(execFileSync('rclone', ['size', '--json', path], { env }).toString()) as { bytes: number }).bytes;
  } catch {
    return 0; // not created yet
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
