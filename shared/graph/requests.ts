import { GraphError, ResponseType } from '@microsoft/microsoft-graph-client';
import { BackupError } from '../errors';
import type { GraphConnection } from './connection';

/** Why a Graph call failed, in the terms a backup acts on. */
export type GraphFailureKind = 'notFound' | 'gone' | 'auth' | 'throttled' | 'malformed' | 'forbidden' | 'other';

export class GraphFailure extends Error {
  constructor(
    readonly kind: GraphFailureKind,
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly location?: string,
  ) {
    super(message);
    this.name = 'GraphFailure';
  }
}

/** Credential errors from @azure/identity: the app registration was refused. */
function isCredentialError(e: unknown): boolean {
  // The Graph SDK wraps the credential's error in a GraphError whose code is the original name.
  const name = (e instanceof GraphError ? e.code : (e as Error)?.name) ?? '';
  return name === 'AuthenticationRequiredError' || name === 'CredentialUnavailableError' || name === 'AuthenticationError';
}

export function classify(e: unknown, what: string, tenantName: string): GraphFailure | BackupError {
  if (e instanceof GraphFailure || e instanceof BackupError) return e;
  if (isCredentialError(e)) {
    const aadsts = /AADSTS\d+[^.\n]*/.exec(String((e as Error).message))?.[0];
    return new BackupError('SOURCE', `Tenant "${tenantName}": Microsoft Entra ID refused the app registration's credentials${aadsts ? ` (${aadsts})` : ''}.`, {
      hint: 'Check the tenant ID, client ID and client secret or certificate (m365-backup tenant add ... replaces them).',
    });
  }
  if (e instanceof GraphError) {
    const status = e.statusCode;
    const code = e.code ?? '';
    const message = `${what}: ${status} ${code}${e.message ? ` ${e.message}` : ''}`.trim();
    if (status === 404) return new GraphFailure('notFound', message, status, code);
    if (status === 410 || /syncStateNotFound|resyncRequired|syncStateInvalid/i.test(code))
      return new GraphFailure('gone', message, status, code, (e.headers as Headers | undefined)?.get?.('location') ?? undefined);
    if (status === 401) return new GraphFailure('auth', message, status, code);
    if (status === 403) return new GraphFailure('forbidden', message, status, code);
    if (status === 429 || status === 503 || status === 504) return new GraphFailure('throttled', message, status, code);
    if (status === -1 && /JSON|Unexpected (end|token)/i.test(String(e.message))) return new GraphFailure('malformed', `${what}: the response is not valid JSON`, status, code);
    return new GraphFailure('other', message, status, code);
  }
  if (e instanceof SyntaxError) return new GraphFailure('malformed', `${what}: the response is not valid JSON`);
  return new GraphFailure('other', `${what}: ${String((e as Error)?.message ?? e)}`);
}

export interface GraphPage<T> {
  value: T[];
  nextLink?: string;
  deltaLink?: string;
}

/** GET returning parsed JSON. */
export async function getJson<T>(conn: GraphConnection, path: string, what: string, headers: Record<string, string> = {}): Promise<T> {
  try {
    const r = (await conn.client.api(conn.url(path)).headers(headers).get()) as unknown;
    if (typeof r !== 'object' || r === null) throw new GraphFailure('malformed', `${what}: the response is not a JSON object`);
    return r as T;
  } catch (e) {
    throw classify(e, what, conn.tenant.name);
  }
}

/** GET returning raw bytes (e.g. a message's MIME from $value). */
export async function getBytes(conn: GraphConnection, path: string, what: string): Promise<Buffer> {
  try {
    const r = (await conn.client.api(conn.url(path)).responseType(ResponseType.ARRAYBUFFER).get()) as ArrayBuffer;
    return Buffer.from(r);
  } catch (e) {
    throw classify(e, what, conn.tenant.name);
  }
}

/** Follows @odata.nextLink from `path`, yielding each page; the last page carries the delta link if any. */
export async function* pages<T>(conn: GraphConnection, path: string, what: string, headers: Record<string, string> = {}): AsyncGenerator<GraphPage<T>> {
  let url: string | undefined = path;
  while (url) {
    const body: Record<string, unknown> = await getJson<Record<string, unknown>>(conn, url, what, headers);
    if (!Array.isArray(body.value)) throw new GraphFailure('malformed', `${what}: the page has no "value" list`);
    const page: GraphPage<T> = { value: body.value as T[] };
    if (typeof body['@odata.nextLink'] === 'string') page.nextLink = body['@odata.nextLink'];
    if (typeof body['@odata.deltaLink'] === 'string') page.deltaLink = body['@odata.deltaLink'];
    yield page;
    url = page.nextLink;
  }
}

/** Collects every item of a paged list. */
export async function listAll<T>(conn: GraphConnection, path: string, what: string): Promise<T[]> {
  const out: T[] = [];
  for await (const p of pages<T>(conn, path, what)) out.push(...p.value);
  return out;
}
