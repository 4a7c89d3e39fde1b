/**
 * Mail HTML made safe to show: rebuilt from an allow-list, never passed through. Text is
 * re-escaped; only formatting tags survive, with only presentational attributes; every URL-bearing
 * attribute (href, src, background, style with url(), srcset…) and every event handler is dropped,
 * so nothing is fetched and nothing runs. Links lose their target (the text stays). What is not on
 * the list (script, style, iframe, object, form, svg, math, comments, processing instructions) is
 * removed with its content where that content is code. The preview is also served with a CSP
 * `sandbox` header and shown in a sandboxed iframe: this is the first of three walls, not the only one.
 */
const ALLOWED = new Set([
  'a', 'b', 'i', 'u', 's', 'em', 'strong', 'small', 'big', 'sub', 'sup', 'br', 'p', 'div', 'span', 'font', 'center',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'blockquote', 'pre', 'code', 'hr',
  'table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th', 'caption', 'col', 'colgroup',
]);
/** Elements dropped together with everything inside them. */
const DROP_WITH_CONTENT = new Set(['script', 'style', 'iframe', 'frameset', 'object', 'applet', 'noscript', 'template', 'svg', 'math', 'head', 'title', 'textarea', 'select', 'xmp', 'noembed', 'noframes', 'plaintext']);
const VOID = new Set(['br', 'hr', 'col']);
/** Void elements that are dropped (they have no content to drop with them). */
const DROP_VOID = new Set(['embed', 'frame', 'param', 'source', 'track', 'link', 'meta', 'base', 'input', 'img', 'keygen', 'area', 'wbr']);
const ATTRS = new Set(['align', 'valign', 'colspan', 'rowspan', 'width', 'height', 'color', 'size', 'face', 'dir', 'lang', 'title', 'border', 'cellpadding', 'cellspacing', 'bgcolor']);

export const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Decodes the entities a value may carry (so `&#106;avascript:` is seen for what it is before re-escaping). */
function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos|nbsp);?/gi, (m, e: string) => {
    const l = e.toLowerCase();
    if (l.startsWith('#x')) return safeCodePoint(parseInt(l.slice(2), 16));
    if (l.startsWith('#')) return safeCodePoint(parseInt(l.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' } as Record<string, string>)[l] ?? m;
  });
}
const safeCodePoint = (n: number) => (Number.isFinite(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '\ufffd');

const TOKEN = /<!--[\s\S]*?(?:-->|$)|<![^>]*>?|<\?[^>]*>?|<\/?([A-Za-z][A-Za-z0-9:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|<|[^<]+/g;
const ATTR = /([^\s"'>\/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?/g;

function attributesOf(tag: string, raw: string): string {
  const out: string[] = [];
  for (const m of raw.matchAll(ATTR)) {
    const name = m[1]!.toLowerCase();
    if (!ATTRS.has(name)) continue;
    const value = decodeEntities((m[2] ?? '').replace(/^["']|["']$/g, ''));
    if (/url\s*\(|expression|javascript:|[<>]/i.test(value)) continue;
    out.push(` ${name}="${escapeHtml(value)}"`);
  }
  return tag === 'a' ? '' : out.join('');
}

/** The sanitised HTML of a message body (a fragment: no head, no base, no meta refresh). */
export function sanitizeHtml(html: string): string {
  let out = '';
  let dropping: string | undefined;
  let depth = 0;
  for (const m of html.matchAll(TOKEN)) {
    const token = m[0];
    const tag = m[1]?.toLowerCase();
    const closing = token.startsWith('</');
    if (dropping) {
      if (tag === dropping) depth += closing ? -1 : token.endsWith('/>') ? 0 : 1;
      if (depth === 0) dropping = undefined;
      continue;
    }
    if (tag) {
      if (DROP_VOID.has(tag)) continue;
      if (DROP_WITH_CONTENT.has(tag)) {
        if (!closing && !token.endsWith('/>')) {
          dropping = tag;
          depth = 1;
        }
        continue;
      }
      if (!ALLOWED.has(tag)) continue;
      if (closing) out += VOID.has(tag) ? '' : `</${tag}>`;
      else out += `<${tag}${attributesOf(tag, m[2] ?? '')}>`;
      continue;
    }
    if (token.startsWith('<!') || token.startsWith('<?')) continue;
    out += escapeHtml(decodeEntities(token));
  }
  return out;
}

/** The CSP the preview document is served with: sandboxed (no script, no forms, own origin), nothing fetched. */
export const PREVIEW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

/** A whole preview document around a sanitised fragment (or around escaped plain text). */
export function previewDocument(o: { html?: string; text?: string }): string {
  const body = o.html !== undefined ? sanitizeHtml(o.html) : `<pre>${escapeHtml(o.text ?? '')}</pre>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Message preview</title><style>body{font:14px/1.45 system-ui,sans-serif;margin:12px;color:#111;background:#fff;word-wrap:break-word}pre{white-space:pre-wrap;font:inherit}table{border-collapse:collapse}</style></head><body>${body}</body></html>`;
}
