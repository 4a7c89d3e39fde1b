import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { GraphConnection } from './connection';
import { QuickXorHash } from './quickXorHash';
import { graphError } from './requests';
import { backoffMs, retryAfterMs } from './throttlingMiddleware';
import { sleep, type MemoryBudget } from './gates';

/** Content handed to the chunkers: small items in memory, large ones spooled to a temporary file. */
export type ItemContent = { data: Buffer; cleanup?: () => Promise<void> } | { file: string; size: number; cleanup(): Promise<void> };

export interface DownloadOptions {
  url: string;
  size: number;
  quickXorHash?: string;
  /** Fetches a fresh pre-authenticated URL (they expire after about an hour). */
  refreshUrl: () => Promise<string>;
  spoolDir: string;
  /** Items up to this size may stay in memory... */
  memoryLimit: number;
  /** ...while the run's shared memory budget allows; otherwise they are spooled to disk. */
  memory?: MemoryBudget;
  what: string;
  signal?: AbortSignal;
}

interface Sink {
  write(b: Uint8Array): Promise<void>;
  reset(): Promise<void>;
  finish(): Promise<ItemContent>;
  abort(): Promise<void>;
}

function memorySink(release: () => void): Sink {
  let parts: Buffer[] = [];
  return {
    write: async (b) => void parts.push(Buffer.from(b)),
    reset: async () => void (parts = []),
    finish: async () => ({ data: Buffer.concat(parts), cleanup: async () => release() }),
    abort: async () => {
      parts = [];
      release();
    },
  };
}

async function fileSink(dir: string, size: number): Promise<Sink> {
  const path = join(dir, `dl-${randomBytes(8).toString('hex')}`);
  let fh: FileHandle | undefined = await open(path, 'w', 0o600);
  const cleanup = () => rm(path, { force: true });
  return {
    write: async (b) => void (await fh!.write(b)),
    reset: async () => {
      await fh!.truncate(0);
      await fh!.close();
      fh = await open(path, 'w', 0o600);
    },
    finish: async () => {
      await fh!.close();
      fh = undefined;
      return { file: path, size, cleanup };
    },
    abort: async () => {
      await fh?.close().catch(() => undefined);
      await cleanup();
    },
  };
}

const MAX_ATTEMPTS = 8;
const MAX_URL_REFRESHES = 3;

/**
 * Downloads a OneDrive file from its pre-authenticated URL, streaming (never the whole file in
 * memory above `memoryLimit`): a broken connection resumes with `Range` from the last byte received,
 * an expired URL (401/403/404/410) is fetched anew, 429/503 wait for Retry-After. The size and the
 * quickXorHash are checked at the end, so a truncated or altered body is never stored as the file.
 */
export async function downloadDriveContent(conn: GraphConnection, o: DownloadOptions): Promise<ItemContent> {
  const inMemory = o.size <= o.memoryLimit && (o.memory?.tryTake(o.size) ?? true);
  const sink = inMemory ? memorySink(() => o.memory?.give(o.size)) : await fileSink(o.spoolDir, o.size);
  let url = o.url;
  let received = 0;
  let hash = new QuickXorHash();
  let refreshes = 0;
  try {
    for (let attempt = 1; received < o.size || attempt === 1; attempt++) {
      if (attempt > MAX_ATTEMPTS) throw graphError('SOURCE', `${o.what}: download failed after ${MAX_ATTEMPTS} attempts`);
      const release = await conn.gates.enter(undefined);
      try {
        const res = await fetch(url, { headers: received > 0 ? { Range: `bytes=${received}-` } : {}, signal: o.signal, redirect: 'follow' }).catch(() => undefined);
        if (!res) {
          await sleep(backoffMs(conn.retry, attempt));
          continue;
        }
        if (res.status === 401 || res.status === 403 || res.status === 404 || res.status === 410) {
          await res.body?.cancel();
          if (refreshes++ >= MAX_URL_REFRESHES) throw graphError('SOURCE', `${o.what}: the download URL keeps being refused (${res.status})`);
          url = await o.refreshUrl();
          continue;
        }
        if (res.status === 429 || res.status === 503 || res.status === 504) {
          await res.body?.cancel();
          conn.gates.counters.throttled++;
          await sleep(retryAfterMs(res.headers.get('retry-after')) ?? backoffMs(conn.retry, attempt));
          continue;
        }
        if (res.status === 200 && received > 0) {
          // The server ignored Range: start over.
          await sink.reset();
          received = 0;
          hash = new QuickXorHash();
        } else if (res.status !== 200 && res.status !== 206) {
          await res.body?.cancel();
          throw graphError('SOURCE', `${o.what}: download answered ${res.status}`);
        }
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            hash.update(chunk);
            await sink.write(chunk);
            received += chunk.length;
          }
        } catch {
          // Connection dropped mid-body: the loop resumes from `received`.
          conn.gates.counters.retries++;
          await sleep(backoffMs(conn.retry, attempt));
          continue;
        }
        if (received < o.size) continue;
      } finally {
        release();
      }
      if (o.size === 0) break;
    }
    if (received !== o.size) throw graphError('SOURCE', `${o.what}: received ${received} bytes, expected ${o.size}`);
    if (o.quickXorHash && hash.digestBase64() !== o.quickXorHash) throw graphError('SOURCE', `${o.what}: content does not match its quickXorHash`);
    return await sink.finish();
  } catch (e) {
    await sink.abort();
    throw e;
  }
}
