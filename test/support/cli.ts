import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export const CLI_MAIN = join(__dirname, '..', '..', 'cli', 'main.js');

export interface CliEnv {
  connectionString: string;
  dataDir: string;
  password?: string;
  extra?: Record<string, string>;
}

/** The environment a CLI child gets: nothing from the developer's own configuration leaks in. */
export function cliEnvironment(env: CliEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'NODE_EXTRA_CA_CERTS']) if (process.env[k]) base[k] = process.env[k];
  return {
    ...base,
    AZURE_STORAGE_CONNECTION_STRING: env.connectionString,
    M365_BACKUP_DATA_DIR: env.dataDir,
    M365_BACKUP_KDF: 'test',
    ...(env.password !== undefined ? { M365_BACKUP_PASSWORD: env.password } : {}),
    ...env.extra,
  };
}

/** Runs `m365-backup <args>` as a separate process (stdin closed, not a terminal). */
export function runCli(args: string[], env: CliEnv, options: { killAfterMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: cliEnvironment(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    if (options.killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
