/**
 * Just enough of RFC 5322 / MIME to rebuild a message as Graph JSON when importMime is refused:
 * the first text part as the body, and the attachments (base64 or 8bit). Headers stay in the
 * stored MIME; the JSON fallback is lossy by nature (Graph cannot take raw headers).
 */
export interface MimeSummary {
  body: { contentType: 'text' | 'html'; content: string };
  attachments: { name: string; contentType: string; data: Buffer }[];
}

function splitHead(part: string): { headers: Map<string, string>; body: string } {
  const at = part.search(/\r?\n\r?\n/);
  const head = at < 0 ? part : part.slice(0, at);
  const body = at < 0 ? '' : part.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const c = line.indexOf(':');
    if (c > 0) headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
  }
  return { headers, body };
}

const param = (value: string, name: string) => new RegExp(`${name}\\*?="?([^";]+)"?`, 'i').exec(value)?.[1];

function decode(body: string, encoding: string | undefined): Buffer {
  if (/base64/i.test(encoding ?? '')) return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (/quoted-printable/i.test(encoding ?? '')) return Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  return Buffer.from(body, 'latin1');
}

export function summarizeMime(mime: Buffer): MimeSummary {
  const out: MimeSummary = { body: { contentType: 'text', content: '' }, attachments: [] };
  let bodySet = false;
  const walk = (text: string) => {
    const { headers, body } = splitHead(text);
    const type = headers.get('content-type') ?? 'text/plain';
    const boundary = param(type, 'boundary');
    if (/^multipart\//i.test(type) && boundary) {
      for (const p of body.split(`--${boundary}`).slice(1)) if (!p.startsWith('--')) walk(p.replace(/^\r?\n/, ''));
      return;
    }
    const disposition = headers.get('content-disposition') ?? '';
    const name = param(disposition, 'filename') ?? param(type, 'name');
    const data = decode(body, headers.get('content-transfer-encoding'));
    if (!bodySet && !/attachment/i.test(disposition) && /^text\/(plain|html)/i.test(type)) {
      out.body = { contentType: /html/i.test(type) ? 'html' : 'text', content: data.toString('utf8') };
      bodySet = true;
    } else out.attachments.push({ name: name ?? 'attachment', contentType: type.split(';')[0]!.trim(), data });
  };
  walk(mime.toString('latin1'));
  return out;
}
