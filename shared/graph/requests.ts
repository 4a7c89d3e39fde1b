import { GraphError, ResponseType } from '@microsoft/microsoft-graph-client';
import { BackupError, isBackupError, type ErrorCode } from '../errors';
import { redactSecrets } from '../redact';
import { retryAfterMs } from './throttlingMiddleware';
import type { GraphConnection } from './connection';

/**
 * Graph failures are BackupErrors (one error type): NOT_FOUND (404), RESYNC_REQUIRED (410 or a
 * refused delta token), CONSENT_MISSING (401/403 on a call made with a token: the app lacks an
 * application permission or admin consent), THROTTLED (429/503/504 after the retry layer gave up,
 * with Retry-After), SOURCE (anything else, malformed answers included). Credentials refused by
 * Entra ID are CREDENTIALS: they stop a run, the others fail one scope. Graph's own error code is
 * kept in `remoteCode`, its HTTP status in `status`.
 */
export function graphError(code: ErrorCode, message: string, o: { status?: number; remoteCode?: string; retryAfterSeconds?: number; cause?: unknown; hint?: string } = {}): BackupError {
  return new BackupError(code, message, o);
}

/** Codes a failed Graph read can carry that concern one scope (a folder, a user), not the whole tenant. */
const SCOPE_CODES: ReadonlySet<ErrorCode> = new Set(['NOT_FOUND', 'RESYNC_REQUIRED', 'CONSENT_MISSING', 'THROTTLED', 'SOURCE']);

/** True for a Graph read's failure that the caller records against its scope (and goes on). */
export function isGraphReadFailure(e: unknown): e is BackupError {
  return isBackupError(e) && SCOPE_CODES.has(e.code);
}

/** Credential errors from @azure/identity: the app registration was refused. */
function isCredentialError(e: unknown): boolean {
  // The Graph SDK wraps the credential's error in a GraphError whose code is the original name.
  const name = (e instanceof GraphError ? e.code : (e as Error)?.name) ?? '';
  return name === 'AuthenticationRequiredError' || name === 'CredentialUnavailableError' || name === 'AuthenticationError';
}

const CONSENT_HINT =
  "Grant the app registration the application permissions User.Read.All, Files.Read.All, Mail.Read, Calendars.Read, Contacts.Read and an admin's consent (Entra ID > App registrations > API permissions).";

/** Translates a Graph SDK or @azure/identity error; `secrets` (the tenant's client secret) are cut from any SDK text kept. */
export function classify(e: unknown, what: string, tenantName: string, secrets: readonly (string | undefined)[] = []): BackupError {
  if (e instanceof BackupError) return e;
  const sdkText = (text: string) => redactSecrets(text, secrets);
  if (isCredentialError(e)) {
    const aadsts = /AADSTS\d+[^.\n]*/.exec(sdkText(String((e as Error).message)))?.[0];
    return new BackupError('CREDENTIALS', `Tenant "${tenantName}": Microsoft Entra ID refused the app registration's credentials${aadsts ? ` (${aadsts})` : ''}.`, {
      hint: 'Check the tenant ID, client ID and client secret or certificate (m365-backup tenant add ... replaces them).',
    });
  }
  if (e instanceof GraphError) {
    const status = e.statusCode;
    const remoteCode = e.code ?? '';
    const message = `${what}: ${status} ${remoteCode}${e.message ? ` ${sdkText(e.message)}` : ''}`.trim();
    const o = { status, remoteCode };
    if (status === 404) return graphError('NOT_FOUND', message, o);
    if (status === 410 || /syncStateNotFound|resyncRequired|syncStateInvalid/i.test(remoteCode)) return graphError('RESYNC_REQUIRED', message, o);
    if (status === 401 || status === 403)
      return graphError('CONSENT_MISSING', `${what}: Microsoft Graph refused access (${status}${remoteCode ? ` ${remoteCode}` : ''}) for tenant "${tenantName}"${e.message ? `: ${sdkText(e.message)}` : ''}`, { ...o, hint: CONSENT_HINT });
    if (status === 429 || status === 503 || status === 504) {
      const after = retryAfterMs((e.headers as Headers | undefined)?.get?.('retry-after'));
      return graphError('THROTTLED', message, { ...o, ...(after !== undefined ? { retryAfterSeconds: after / 1000 } : {}) });
    }
    if (status === -1 && /JSON|Unexpected (end|token)/i.test(String(e.message))) return graphError('SOURCE', `${what}: the response is not valid JSON`, o);
    return graphError('SOURCE', message, o);
  }
  if (e instanceof SyntaxError) return graphError('SOURCE', `${what}: the response is not valid JSON`);
  return graphError('SOURCE', `${what}: ${sdkText(String((e as Error)?.message ?? e))}`);
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
    if (typeof r !== 'object' || r === null) throw graphError('SOURCE', `${what}: the response is not a JSON object`);
    return r as T;
  } catch (e) {
    throw classify(e, what, conn.tenant.name, [conn.tenant.clientSecret]);
  }
}

/** GET returning raw bytes (e.g. a message's MIME from $value). */
export async function getBytes(conn: GraphConnection, path: string, what: string): Promise<Buffer> {
  try {
    const r = (await conn.client.api(conn.url(path)).responseType(ResponseType.ARRAYBUFFER).get()) as ArrayBuffer;
    return Buffer.from(r);
  } catch (e) {
    throw classify(e, what, conn.tenant.name, [conn.tenant.clientSecret]);
  }
}

/** Follows @odata.nextLink from `path`, yielding each page; the last page carries the delta link if any. */
export async function* pages<T>(conn: GraphConnection, path: string, what: string, headers: Record<string, string> = {}): AsyncGenerator<GraphPage<T>> {
  let url: string | undefined = path;
  while (url) {
    const body: Record<string, unknown> = await getJson<Record<string, unknown>>(conn, url, what, headers);
    if (!Array.isArray(body.value)) throw graphError('SOURCE', `${what}: the page has no "value" list`);
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
