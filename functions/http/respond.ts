import { app, type HttpMethod, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableOrchestrationStatus } from 'durable-functions';
import { BackupError, isBackupError } from '../../shared/errors';

/** A JSON error body: {"error": {"code", "message"}}; nothing else (no stack, no secrets). */
export function errorResponse(status: number, code: string, message: string): HttpResponseInit {
  return { status, jsonBody: { error: { code, message } } };
}

const STATUS: Partial<Record<string, number>> = { USAGE: 400, NOT_FOUND: 404, WRONG_PASSWORD: 401, ALREADY_EXISTS: 409, LOCKED: 409, NOT_INITIALISED: 404, PRECONDITION_FAILED: 409 };

/** Maps an error to a 4xx/5xx JSON response; unexpected errors say only that they happened. */
export function fromError(e: unknown): HttpResponseInit {
  if (isBackupError(e)) return errorResponse(STATUS[e.code] ?? 500, e.code, e.message);
  return errorResponse(500, 'INTERNAL', 'The request failed unexpectedly; see the function logs.');
}

/** The JSON body of a request, which must be an object. */
export async function jsonBody(req: HttpRequest): Promise<Record<string, unknown>> {
  const text = await req.text();
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BackupError('USAGE', 'The request body is not valid JSON.');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BackupError('USAGE', 'The request body must be a JSON object.');
  return v as Record<string, unknown>;
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new BackupError('USAGE', `"${field}" must be a non-empty string.`);
  return v;
}

export function requiredString(body: Record<string, unknown>, field: string): string {
  const v = optionalString(body, field);
  if (v === undefined) throw new BackupError('USAGE', `"${field}" is required.`);
  return v;
}

/** The status of a Durable instance if it is one of `orchestrator`, else undefined (the caller answers 404). */
export async function instanceOf(context: InvocationContext, id: string, orchestrator: string): Promise<DurableOrchestrationStatus | undefined> {
  const status = await df.getClient(context).getStatus(id, { showInput: true }).catch(() => undefined);
  return status?.name === orchestrator ? status : undefined;
}

/**
 * Registers a JSON endpoint: authLevel "function", the durable client input when asked for, and one
 * error mapping for every handler (a BackupError becomes its 4xx; anything else a bare 500).
 */
export function jsonEndpoint(
  name: string,
  o: { route: string; methods: HttpMethod[]; durableClient?: boolean },
  handler: (req: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
): void {
  app.http(name, {
    route: o.route,
    methods: o.methods,
    authLevel: 'function',
    ...(o.durableClient ? { extraInputs: [df.input.durableClient()] } : {}),
    handler: async (req, context) => {
      try {
        return await handler(req, context);
      } catch (e) {
        return fromError(e);
      }
    },
  });
}
