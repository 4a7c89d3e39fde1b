/**
 * Just enough MIME (RFC 2045/2046) to preview a stored message: headers, multipart bodies, base64
 * and quoted-printable, charsets through TextDecoder. It reads; it never executes or fetches
 * anything. Nesting is bounded so a hostile message cannot recurse without end.
 */
export interface MimePart {
  headers: Map<string, string>;
  contentType: string;
  params: Record<string, string>;
  body: Buffer;
  parts: MimePart[];
}

const MAX_DEPTH = 8;

function splitHead(raw: Buffer): { head: string; body: Buffer } {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const [at, len] = crlf >= 0 && (lf < 0 || crlf < lf) ? [crlf, 4] : lf >= 0 ? [lf, 2] : [raw.length, 0];
  return { head: raw.subarray(0, at).toString('latin1'), body: raw.subarray(at + len) };
}

function parseHeaders(head: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) {
      const name = line.slice(0, i).trim().toLowerCase();
      if (!out.has(name)) out.set(name, line.slice(i + 1).trim());
    }
  }
  return out;
}

export function parseParams(value: string): { value: string; params: Record<string, string> } {
  const [first, ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { value: (first ?? '').trim().toLowerCase(), params };
}

function decodeTransfer(body: Buffer, encoding: string): Buffer {
  const e = encoding.toLowerCase();
  if (e === 'base64') return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (e === 'quoted-printable') {
    const text = body.toString('latin1').replace(/=\r?\n/g, '');
    return Buffer.from(text.replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  }
  return body;
}

export function parseMime(raw: Buffer, depth = 0): MimePart {
  const { head, body } = splitHead(raw);
  const headers = parseHeaders(head);
  const { value: contentType, params } = parseParams(headers.get('content-type') ?? 'text/plain');
  const part: MimePart = { headers, contentType, params, body: decodeTransfer(body, headers.get('content-transfer-encoding') ?? '7bit'), parts: [] };
  if (contentType.startsWith('multipart/') && params.boundary && depth < MAX_DEPTH) {
    const text = body.toString('latin1');
    const marker = `--${params.boundary}`;
    const pieces = text.split(marker).slice(1);
    for (const piece of pieces) {
      if (piece.startsWith('--')) break;
      part.parts.push(parseMime(Buffer.from(piece.replace(/^\r?\n/, '').replace(/\r?\n$/, ''), 'latin1'), depth + 1));
    }
  }
  return part;
}

/** A text part decoded with its charset (UTF-8 when unknown). */
export function partText(p: MimePart): string {
  try {
    return new TextDecoder(p.params.charset ?? 'utf-8').decode(p.body);
  } catch {
    return new TextDecoder('utf-8').decode(p.body);
  }
}

/** Every leaf part, depth first. */
export function leaves(p: MimePart): MimePart[] {
  return p.parts.length ? p.parts.flatMap(leaves) : [p];
}

export function isAttachment(p: MimePart): boolean {
  const disposition = parseParams(p.headers.get('content-disposition') ?? '');
  return disposition.value === 'attachment' || (!!(disposition.params.filename ?? p.params.name) && !p.contentType.startsWith('text/'));
}
