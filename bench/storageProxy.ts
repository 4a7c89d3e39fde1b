import { createServer, request, type Server } from 'node:http';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../shared/local';

/** Requests and bytes through one endpoint (blob or table), split into reads and writes. */
export interface EndpointCounts {
  requests: number;
  /** Requests that change something (PUT, POST, MERGE, PATCH, DELETE). */
  writes: number;
  /** Request bodies sent to storage. */
  bytesWritten: number;
  /** Response bodies received from storage. */
  bytesRead: number;
}

export interface StorageCounts {
  blob: EndpointCounts;
  table: EndpointCounts;
}

const zero = (): EndpointCounts => ({ requests: 0, writes: 0, bytesWritten: 0, bytesRead: 0 });
export const emptyStorageCounts = (): StorageCounts => ({ blob: zero(), table: zero() });

export function diffCounts(after: StorageCounts, before: StorageCounts): StorageCounts {
  const d = (a: EndpointCounts, b: EndpointCounts): EndpointCounts => ({ requests: a.requests - b.requests, writes: a.writes - b.writes, bytesWritten: a.bytesWritten - b.bytesWritten, bytesRead: a.bytesRead - b.bytesRead });
  return { blob: d(after.blob, before.blob), table: d(after.table, before.table) };
}

export interface CountingStorageProxy {
  /** A connection string for the product: blob and table through the proxy. */
  connectionString: string;
  /** Running totals (copy them to take a snapshot). */
  counts(): StorageCounts;
  stop(): Promise<void>;
}

function forward(target: number, c: EndpointCounts): Server {
  return createServer((req, res) => {
    c.requests++;
    if (req.method && req.method !== 'GET' && req.method !== 'HEAD') c.writes++;
    const up = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.on('data', (d: Buffer) => (c.bytesRead += d.length));
      r.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(e));
    });
    req.on('data', (d: Buffer) => (c.bytesWritten += d.length));
    req.pipe(up);
  });
}

/**
 * An HTTP proxy in front of Azurite's blob and table endpoints that counts requests and body
 * bytes each way (Shared Key signatures do not cover the port, so requests pass unchanged).
 */
export async function startCountingStorageProxy(blobPort: number, tablePort: number): Promise<CountingStorageProxy> {
  const counts = emptyStorageCounts();
  const servers = [forward(blobPort, counts.blob), forward(tablePort, counts.table)];
  const ports: number[] = [];
  for (const s of servers) {
    s.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const a = s.address();
    ports.push(typeof a === 'object' && a ? a.port : 0);
  }
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
      `BlobEndpoint=http://127.0.0.1:${ports[0]}/${AZURITE_ACCOUNT};TableEndpoint=http://127.0.0.1:${ports[1]}/${AZURITE_ACCOUNT};`,
    counts: () => JSON.parse(JSON.stringify(counts)) as StorageCounts,
    stop: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}
