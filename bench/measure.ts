import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  wallMs: number;
  /** user + system CPU seconds of the process (all its threads), sampled until it exits */
  cpuS: number;
  peakRssMiB: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function hwmKiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Cumulative user + system CPU seconds of a running process (clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Runs a command, timing it and sampling its peak resident memory (VmHWM) every 20 ms. */
export function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    let cpu = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const sample = () => {
      peak = Math.max(peak, hwmKiB(child.pid!));
      cpu = Math.max(cpu, cpuSeconds(child.pid!));
    };
    const timer = setInterval(sample, 20);
    child.on('error', reject);
    child.on('exit', sample);
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ wallMs: Number(process.hrtime.bigint() - started) / 1e6, cpuS: cpu, peakRssMiB: Math.round(peak / 1024), code, stdout, stderr });
    });
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
