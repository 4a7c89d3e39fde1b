import { BackupError, isBackupError } from '../../../errors';
import { classify, type GraphConnection } from '../../../graph';

/**
 * Graph writes of the writers: JSON in and out through the SDK (the throttling layer, the token),
 * errors as BackupErrors with Graph's status and code. `status` tells a conflict (409) or a
 * missing item (404) from the rest.
 */
export async function send<T = Record<string, unknown>>(conn: GraphConnection, method: 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'GET', path: string, what: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  try {
    const req = conn.client.api(path.startsWith('https://') ? path : conn.url(path)).headers(headers);
    const r: unknown =
      method === 'GET' ? await req.get() : method === 'POST' ? await req.post(body ?? {}) : method === 'PATCH' ? await req.patch(body ?? {}) : method === 'PUT' ? await req.put(body) : await req.delete();
    return (r ?? {}) as T;
  } catch (e) {
    throw classify(e, what, conn.tenant.name, [conn.tenant.clientSecret]);
  }
}

/** The same request, undefined when Graph answers 404 (an item or folder that is not there). */
export async function sendOr404<T = Record<string, unknown>>(conn: GraphConnection, method: 'GET' | 'DELETE', path: string, what: string): Promise<T | undefined> {
  try {
    return await send<T>(conn, method, path, what);
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
}

export const statusOf = (e: unknown): number | undefined => (isBackupError(e) ? e.status : undefined);

/** The beta endpoint beside the configured v1.0 one (importMime is beta only). */
export const betaUrl = (conn: GraphConnection, path: string) => `${conn.endpoints.graphBaseUrl.replace(/\/v1\.0\/?$/, '')}/beta${path}`;

/** A write refused for lack of a role stops the unit (every item would fail the same way). */
export function isStop(e: unknown): boolean {
  return isBackupError(e) && (e.code === 'CONSENT_MISSING' || e.code === 'CREDENTIALS');
}

/** The sentence of a failed item. */
export const reasonOf = (e: unknown) => (e instanceof BackupError ? e.message : String((e as Error)?.message ?? e)).slice(0, 500);

/** OData string literal. */
export const odataString = (s: string) => `'${s.replace(/'/g, "''")}'`;
