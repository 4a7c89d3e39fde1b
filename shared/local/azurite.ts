import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort, waitForPort } from './freePort';

/** Azurite's published development account (not a secret: it is in Azurite's documentation). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteInstance {
  connectionString: string;
  blobPort: number;
  tablePort: number;
  pid: number;
  stop(): Promise<void>;
}

export interface StartAzuriteOptions {
  /** Folder for Azurite's data; omitted: in memory (tests). */
  location?: string;
  /** Cap on in-memory extent storage, MB. */
  extentMemoryLimitMb?: number;
}

export function azuriteConnectionString(blobPort: number, tablePort: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `BlobEndpoint=http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT};TableEndpoint=http://127.0.0.1:${tablePort}/${AZURITE_ACCOUNT};`
  );
}

function azuriteMain(): string {
  return join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopProcess(child: ChildProcess | number): Promise<void> {
  const pid = typeof child === 'number' ? child : child.pid!;
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * Starts Azurite from its npm package on free loopback ports and waits until blob and table accept
 * connections. With a location, a pid file lets the next start stop an Azurite orphaned by a killed
 * parent, so two never share one data folder.
 */
/**
 * Whether the TCP listener on 127.0.0.1:`port` belongs to process `pid` (Linux: /proc); undefined
 * where that cannot be told.
 */
function listenerOwnedBy(port: number, pid: number): boolean | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  // Columns: sl local_address rem_address st ... inode; state 0A is LISTEN.
  const inodes = table
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c[1]?.endsWith(`:${hexPort}`) && c[3] === '0A')
    .map((c) => c[9]);
  if (inodes.length === 0) return undefined;
  try {
    const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    return inodes.some((inode) => fds.includes(`socket:[${inode}]`));
  } catch {
    return undefined;
  }
}

const PORT_TAKEN = 'port taken while Azurite started';
const portTaken = (port: number) => Object.assign(new Error(`port ${port} was taken by another process while Azurite started`), { reason: PORT_TAKEN });

export async function startAzurite(options: StartAzuriteOptions = {}, attempt?: number): Promise<AzuriteInstance> {
  const [blobPort, queuePort, tablePort] = [await freePort(), await freePort(), await freePort()];
  const args = [
    azuriteMain(),
    '--blobHost', '127.0.0.1', '--blobPort', String(blobPort),
    '--queueHost', '127.0.0.1', '--queuePort', String(queuePort),
    '--tableHost', '127.0.0.1', '--tablePort', String(tablePort),
    '--skipApiVersionCheck', '--disableTelemetry', '--silent', '--loose',
  ];
  let pidFile: string | undefined;
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    pidFile = join(options.location, 'azurite.pid');
    if (existsSync(pidFile)) {
      const old = Number(readFileSync(pidFile, 'utf8'));
      if (old > 0) await stopProcess(old);
      rmSync(pidFile, { force: true });
    }
    args.push('--location', options.location);
  } else {
    args.push('--inMemoryPersistence');
    if (options.extentMemoryLimitMb) args.push('--extentMemoryLimit', String(options.extentMemoryLimitMb));
  }
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`Azurite exited during start-up (code ${code}): ${stderr.trim()}`))),
  );
  try {
    await Promise.race([Promise.all([waitForPort(blobPort, 30_000), waitForPort(tablePort, 30_000)]), exited]);
    // Azurite neither exits nor says so when a port it was given is taken meanwhile (freePort only
    // says it was free a moment ago): make sure the listeners are this child's, not another Azurite's.
    for (const port of [blobPort, tablePort])
      if (listenerOwnedBy(port, child.pid!) === false) throw portTaken(port);
  } catch (e) {
    await stopProcess(child);
    if ((e as { reason?: string }).reason === PORT_TAKEN && (attempt ?? 0) < 3) return startAzurite(options, (attempt ?? 0) + 1);
    throw e;
  }
  exited.catch(() => undefined);
  if (pidFile) writeFileSync(pidFile, String(child.pid));
  return {
    connectionString: azuriteConnectionString(blobPort, tablePort),
    blobPort,
    tablePort,
    pid: child.pid!,
    stop: async () => {
      await stopProcess(child);
      if (pidFile) rmSync(pidFile, { force: true });
    },
  };
}
