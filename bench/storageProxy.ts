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
  /**
   * Requests by kind: method, table or container (the repository's name prefix dropped), and the
   * shape (point, query, batch) with the partition key's first segment, e.g.
   * "GET snapshots point run.*" or "POST $batch items". What tells one run model cost from another.
   */
  kinds: Record<string, number>;
}

const zero = (): EndpointCounts => ({ requests: 0, writes: 0, bytesWritten: 0, bytesRead: 0 });
export const emptyStorageCounts = (): StorageCounts => ({ blob: zero(), table: zero(), kinds: {} });

export function diffCounts(after: StorageCounts, before: StorageCounts): StorageCounts {
  const d = (a: EndpointCounts, b: EndpointCounts): EndpointCounts => ({ requests: a.requests - b.requests, writes: a.writes - b.writes, bytesWritten: a.bytesWritten - b.bytesWritten, bytesRead: a.bytesRead - b.bytesRead });
  const kinds: Record<string, number> = {};
  for (const [k, n] of Object.entries(after.kinds)) if (n - (before.kinds[k] ?? 0) > 0) kinds[k] = n - (before.kinds[k] ?? 0);
  return { blob: d(after.blob, before.blob), table: d(after.table, before.table), kinds };
}

/** The partition key's first segment (up to '.', ':' or '/'), so kinds group rows of one purpose. */
const pkKind = (pk: string) => {
  const m = /^([^.:/]*)([.:/])?/.exec(pk);
  return m ? `${m[1]}${m[2] ? `${m[2]}*` : ''}` : pk;
};

/** A request's kind (see StorageCounts.kinds); `repo` is dropped from table and container names. */
export function requestKind(endpoint: 'blob' | 'table', method: string, url: string, body: string): string {
  const path = decodeURIComponent(url.split('?')[0] ?? '').replace(/^\/[^/]+\//, '');
  const query = decodeURIComponent(url.split('?')[1] ?? '');
  const strip = (name: string) => name.replace(/^bench[a-z0-9]*?t\d+/, '').replace(/^[a-z]+\d+t\d+/, '');
  if (endpoint === 'blob') {
    const [container = '', ...rest] = path.split('/');
    const comp = /comp=([a-z]+)/.exec(query)?.[1];
    return `${method} blob ${strip(container)}${rest.length ? ` ${rest[0]!.split(/[-_.]/)[0]}` : ''}${comp ? ` ${comp}` : ''}`;
  }
  if (path === '$batch') {
    const inner = /(?:POST|PUT|MERGE|PATCH|DELETE) https?:\/\/[^/]+\/[^/]+\/([A-Za-z0-9]+)\(?(?:PartitionKey='([^']*)')?/.exec(body);
    return `POST $batch ${inner ? `${strip(inner[1]!)}${inner[2] ? ` ${pkKind(decodeURIComponent(inner[2]))}` : ''}` : '?'}`;
  }
  const m = /^([A-Za-z0-9]+)(?:\(PartitionKey='([^']*)',RowKey='([^']*)'\)|\(\))?$/.exec(path);
  if (!m) return `${method} table ${path}`;
  if (m[2] !== undefined) return `${method} ${strip(m[1]!)} point ${pkKind(m[2])}`;
  const pk = /PartitionKey (?:eq|ge|gt) '([^']*)'/.exec(query)?.[1];
  return `${method} ${strip(m[1]!)} ${method === 'GET' ? 'query' : 'insert'}${pk !== undefined ? ` ${pkKind(pk)}` : ''}`;
}

export interface CountingStorageProxy {
  /** A connection string for the product: blob and table through the proxy. */
  connectionString: string;
  /** Running totals (copy them to take a snapshot). */
  counts(): StorageCounts;
  stop(): Promise<void>;
}

function forward(endpoint: 'blob' | 'table', target: number, c: EndpointCounts, kinds: Record<string, number>): Server {
  return createServer((req, res) => {
    c.requests++;
    let head = '';
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
    req.on('data', (d: Buffer) => {
      c.bytesWritten += d.length;
      if (head.length < 4096) head += d.toString('latin1', 0, Math.min(d.length, 4096));
    });
    req.on('end', () => {
      const k = requestKind(endpoint, req.method ?? '?', req.url ?? '', head);
      kinds[k] = (kinds[k] ?? 0) + 1;
    });
    req.pipe(up);
  });
}

/**
 * An HTTP proxy in front of Azurite's blob and table endpoints that counts requests and body
 * bytes each way (Shared Key signatures do not cover the port, so requests pass unchanged).
 */
export async function startCountingStorageProxy(blobPort: number, tablePort: number): Promise<CountingStorageProxy> {
  const counts = emptyStorageCounts();
  const servers = [forward('blob', blobPort, counts.blob, counts.kinds), forward('table', tablePort, counts.table, counts.kinds)];
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
