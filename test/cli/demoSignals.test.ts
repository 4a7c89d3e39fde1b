import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEMO = join(__dirname, '..', '..', 'cli', 'demo.js');

/** Every process below `root`, from /proc (the demo starts Azurite and the local Functions host). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/**
 * Starts `npm start` (node dist/cli/demo.js) with its temporary folder under a folder of ours,
 * waits for a line of its output, sends a stop signal, and reports what was left behind.
 */
async function stopDemo(waitFor: RegExp, signal: NodeJS.Signals, delayMs = 0) {
  const tmp = mkdtempSync(join(tmpdir(), 'm365b-demo-signal-'));
  const child = spawn(process.execPath, [DEMO], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmp, M365_BACKUP_KDF: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
  let pids: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (waitFor.test(stdout)) resolve();
      });
      void exited.then((e) => reject(new Error(`the demo exited early (${e.code}): ${stdout}\n${stderr}`)));
    });
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const work = /data in (\S+)/.exec(stdout)![1]!;
    const ports = /Azurite on 127\.0\.0\.1:(\d+)\/(\d+); tenant simulator on https:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)!.slice(1).map(Number);
    pids = descendants(child.pid!);
    assert.ok(existsSync(work), 'the temporary folder exists while the demo runs');
    child.kill(signal);
    const end = await exited;
    const openPorts: number[] = [];
    for (const p of ports) if (await portOpen(p)) openPorts.push(p);
    return { ...end, work, pids, left: pids.filter(alive), openPorts, stdout, stderr, leftInTmp: readdirSync(tmp) };
  } finally {
    child.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
}

function assertCleanStop(r: Awaited<ReturnType<typeof stopDemo>>, code: number, children: number): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  assert.ok(r.pids.length >= children, `the demo had ${children} child processes (${r.pids.join(', ')})`);
  assert.deepEqual(r.left, [], 'no child process outlives the demo');
  assert.deepEqual(r.openPorts, [], 'Azurite and the simulator no longer listen');
  assert.equal(existsSync(r.work), false, `the temporary folder ${r.work} is removed`);
  assert.deepEqual(r.leftInTmp, [], 'nothing else is left in the temporary folder');
  assert.doesNotMatch(r.stderr, /demo failed/, 'a stop is not reported as a failure');
}

describe('npm start stops its children and removes its temporary folder on a stop signal', () => {
  test('SIGTERM during the first nightly backup: exit 143, Azurite and the local host gone, folder removed', async () => {
    const r = await stopDemo(/local Functions host with the HTTP API on/, 'SIGTERM', 3000);
    assertCleanStop(r, 143, 2);
  });

  test('SIGHUP while the tenant is being registered: exit 129, Azurite gone, folder removed', async () => {
    const r = await stopDemo(/data in \S+/, 'SIGHUP');
    assertCleanStop(r, 129, 1);
  });

  test('SIGINT (Ctrl-C) as before: exit 130, everything gone', async () => {
    const r = await stopDemo(/local Functions host with the HTTP API on/, 'SIGINT');
    assertCleanStop(r, 130, 2);
  });
});
