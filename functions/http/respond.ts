import { app, type HttpMethod, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableOrchestrationStatus } from 'durable-functions';
import { BackupError, httpStatusOf, isBackupError } from '../../shared/errors';
import { redactedError, redactSecrets } from '../../shared/redact';
import { apiAuthMode, authorize, checkCsrf, type Access, type Caller } from './access';

/** Largest request body accepted (bytes): every request of this API is a few hundred bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Body fields whose values are secrets: redacted from any error text of the request. */
const SECRET_FIELDS = ['password', 'oldPassword', 'newPassword'];
const requestSecrets = new WeakMap<HttpRequest, string[]>();

/** A JSON error body: {"error": {"code", "message"[, "retryAfterSeconds"]}}; nothing else (no stack, no secrets). */
export function errorResponse(status: number, code: string, message: string, o: { retryAfterSeconds?: number; secrets?: readonly string[] } = {}): HttpResponseInit {
  const error: Record<string, unknown> = { code, message: redactSecrets(message, o.secrets) };
  if (o.retryAfterSeconds !== undefined) error.retryAfterSeconds = o.retryAfterSeconds;
  return { status, jsonBody: { error }, ...(o.retryAfterSeconds !== undefined ? { headers: { 'Retry-After': String(o.retryAfterSeconds) } } : {}) };
}

/**
 * Maps an error to its 4xx/5xx JSON response (the code table in shared/errors.ts); a THROTTLED
 * error carries Retry-After. Unexpected errors say only that they happened (and are logged, redacted).
 */
export function fromError(e: unknown, o: { context?: InvocationContext; secrets?: readonly string[] } = {}): HttpResponseInit {
  if (isBackupError(e)) {
    const status = httpStatusOf(e);
    if (status >= 500) o.context?.error(redactedError(e, o.secrets));
    const retryAfterSeconds = e.code === 'THROTTLED' ? (e.retryAfterSeconds ?? 1) : e.retryAfterSeconds;
    return errorResponse(status, e.code, e.message, { ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}), ...(o.secrets ? { secrets: o.secrets } : {}) });
  }
  o.context?.error(`unexpected error: ${redactedError(e, o.secrets)}`);
  return errorResponse(500, 'INTERNAL', 'The request failed unexpectedly; see the function logs.');
}

/** The request body as text, refused (413) above MAX_BODY_BYTES before more of it is read. */
async function limitedText(req: HttpRequest): Promise<string> {
  const tooLarge = () => new BackupError('PAYLOAD_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES / 1024} KiB.`);
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw tooLarge();
  if (!req.body) return '';
  const parts: Buffer[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    parts.push(Buffer.from(value));
  }
  return Buffer.concat(parts).toString('utf8');
}

/**
 * The JSON body of a request: an object of at most MAX_BODY_BYTES whose fields are all in `allowed`
 * (an unknown field is a 400 naming it, so a body meant for another endpoint is refused).
 */
export async function jsonBody(req: HttpRequest, allowed: readonly string[]): Promise<Record<string, unknown>> {
  const text = await limitedText(req);
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BackupError('USAGE', 'The request body is not valid JSON.');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BackupError('USAGE', 'The request body must be a JSON object.');
  const body = v as Record<string, unknown>;
  const secrets = SECRET_FIELDS.map((f) => body[f]).filter((s): s is string => typeof s === 'string' && s !== '');
  if (secrets.length) requestSecrets.set(req, secrets);
  for (const field of Object.keys(body))
    if (!allowed.includes(field))
      throw new BackupError('USAGE', `Unknown field "${field.slice(0, 64)}" in the request body: this endpoint takes ${allowed.map((f) => `"${f}"`).join(', ')}.`);
  return body;
}

/** Query parameters other than `allowed` (and `code`, the function key) are a 400 naming the parameter. */
export function checkQuery(req: HttpRequest, allowed: readonly string[]): void {
  for (const name of req.query.keys())
    if (name !== 'code' && !allowed.includes(name))
      throw new BackupError('USAGE', `Unknown query parameter "${name.slice(0, 64)}": this endpoint takes ${allowed.map((f) => `"${f}"`).join(', ')}.`);
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new BackupError('USAGE', `"${field}" must be a non-empty string.`);
  return v;
}

/** A boolean body field; false when absent. */
export function optionalBoolean(body: Record<string, unknown>, name: string): boolean {
  const v = body[name];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new BackupError('USAGE', `"${name}" must be true or false.`);
  return v;
}

export function requiredString(body: Record<string, unknown>, field: string): string {
  const v = optionalString(body, field);
  if (v === undefined) throw new BackupError('USAGE', `"${field}" is required.`);
  return v;
}

/** Instance ids this API hands out: manual-…, nightly-…, restore-… (letters, digits, dashes). */
const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;

/** The status of a Durable instance if it is one of `orchestrator`, else undefined (the caller answers 404). */
export async function instanceOf(context: InvocationContext, id: string, orchestrator: string): Promise<DurableOrchestrationStatus | undefined> {
  if (!INSTANCE_ID.test(id)) throw new BackupError('USAGE', `"${id.slice(0, 64)}" is not an id this API hands out (letters, digits and dashes).`);
  const status = await df.getClient(context).getStatus(id, { showInput: true }).catch(() => undefined);
  return status?.name === orchestrator ? status : undefined;
}

/** Headers on every API answer: never cached (it is per caller), never sniffed or framed. */
export const API_HEADERS: Record<string, string> = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'" };

/**
 * Registers a JSON endpoint: authLevel "function" (or "anonymous" behind App Service Authentication,
 * API_AUTH=entra), the durable client input when asked for, the caller's role check (401/403 before
 * the handler runs; functions/http/access.ts) and CSRF check, and one error mapping for every
 * handler (a BackupError becomes its status from the code table; anything else a bare 500), with the
 * request's passwords redacted from whatever is answered or logged.
 */
export function jsonEndpoint(
  name: string,
  o: { route: string; methods: HttpMethod[]; durableClient?: boolean; access: Access },
  handler: (req: HttpRequest, context: InvocationContext, caller: Caller) => Promise<HttpResponseInit>,
): void {
  app.http(name, {
    route: o.route,
    methods: o.methods,
    authLevel: apiAuthMode() === 'entra' ? 'anonymous' : 'function',
    ...(o.durableClient ? { extraInputs: [df.input.durableClient()] } : {}),
    handler: async (req, context) => {
      let res: HttpResponseInit;
      try {
        const caller = authorize(req, o.access);
        checkCsrf(req);
        res = await handler(req, context, caller);
      } catch (e) {
        res = fromError(e, { context, secrets: requestSecrets.get(req) ?? [] });
      }
      return { ...res, headers: { ...API_HEADERS, ...(res.headers as Record<string, string> | undefined) } };
    },
  });
}
