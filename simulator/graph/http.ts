import type { IncomingMessage } from 'node:http';

/** What a simulated route answers; the server writes it (or a fault replaces it). */
export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON value, or raw bytes. */
  json?: unknown;
  bytes?: Buffer;
}

export interface SimRequest {
  method: string;
  url: URL;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): SimResponse => ({ status, json: body, headers });

/** A Graph error body: {"error": {"code", "message", "innerError": {...}}}. */
export function graphError(status: number, code: string, message: string, headers?: Record<string, string>): SimResponse {
  return json(status, { error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': cryptoId(), 'client-request-id': cryptoId() } } }, headers);
}

function cryptoId(): string {
  return globalThis.crypto.randomUUID();
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Serialises a response to the bytes on the wire (body) and its headers. */
export function encode(r: SimResponse): { headers: Record<string, string>; body: Buffer } {
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  let body: Buffer = Buffer.alloc(0);
  if (r.json !== undefined) {
    body = Buffer.from(JSON.stringify(r.json));
    headers['Content-Type'] ??= 'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';
  } else if (r.bytes) body = r.bytes;
  headers['Content-Length'] = String(body.length);
  return { headers, body };
}
