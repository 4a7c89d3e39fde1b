import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface FunctionsHostProcess {
  origin: string;
  child: ChildProcess;
  output: string[];
  /** Kills the host at once (SIGKILL): a crash, not a shutdown. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

const SERVE = join(__dirname, '..', '..', 'cli', 'serve.js');

/** Starts the local Functions host (cli/serve.js) as its own process, as `npm start` does. */
export function startFunctionsHost(env: NodeJS.ProcessEnv, stateDir: string): Promise<FunctionsHostProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVE, '--state-dir', stateDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    let ready = false;
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    const onData = (d: Buffer) => {
      const text = d.toString();
      output.push(text);
      const m = /listening (http:\/\/[^\s]+)/.exec(text);
      if (m && !ready) {
        ready = true;
        resolve({
          origin: m[1]!,
          child,
          output,
          kill: async () => {
            child.kill('SIGKILL');
            await exited;
          },
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    child.on('exit', (code) => {
      if (!ready) reject(new Error(`the local host exited (${code}): ${output.join('')}`));
    });
  });
}

export async function getJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Polls a Durable instance's status until it is final. */
export async function waitForInstance(origin: string, id: string, timeoutMs = 240_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await getJson(`${origin}/runtime/webhooks/durabletask/instances/${encodeURIComponent(id)}`);
    if (r.status === 200 && ['Completed', 'Failed', 'Terminated'].includes(String(r.body.runtimeStatus))) return r.body;
    if (Date.now() > deadline) throw new Error(`instance ${id} not finished: ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}
