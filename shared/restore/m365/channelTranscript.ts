/**
 * A channel's readable transcript: one HTML page, root messages in time order, each with its
 * replies threaded beneath it, author and time on each, inline images beside the text (relative
 * links to the restored files). Message bodies are Teams HTML: they are reduced to text and
 * escaped, so nothing of a message can run as markup or script in the page.
 */
export interface TranscriptMessage {
  id: string;
  replyToId: string | null;
  author: string;
  created: string;
  edited: string | null;
  subject: string | null;
  body: string;
  /** Relative paths of the message's restored inline images. */
  images: string[];
}

export const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Teams HTML to plain text: line breaks kept, tags dropped, entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(br|\/p|\/div|\/li)\b[^>]*>/gi, '\n')
    .replace(/<img\b[^>]*>/gi, '')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => (e[0] === '#' ? String.fromCodePoint(e[1]?.toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : (ENTITIES[e.toLowerCase()] ?? m)))
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const byTime = (a: TranscriptMessage, b: TranscriptMessage) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id);

function block(m: TranscriptMessage, reply: boolean): string {
  const text = escapeHtml(htmlToText(m.body)).replace(/\n/g, '<br>');
  const images = m.images.map((p) => `<a href="${escapeHtml(encodeURI(p))}"><img src="${escapeHtml(encodeURI(p))}" alt="image" style="max-width:320px"></a>`).join('');
  return [
    `<div class="${reply ? 'reply' : 'message'}" id="m${escapeHtml(m.id)}">`,
    `<div class="head"><b>${escapeHtml(m.author)}</b> <time datetime="${escapeHtml(m.created)}">${escapeHtml(m.created.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC'))}</time>${m.edited ? ' <i>(edited)</i>' : ''}</div>`,
    m.subject ? `<div class="subject">${escapeHtml(m.subject)}</div>` : '',
    `<div class="body">${text}</div>`,
    images ? `<div class="images">${images}</div>` : '',
    '</div>',
  ].join('');
}

export function channelTranscript(team: string, channel: string, messages: TranscriptMessage[]): string {
  const roots = messages.filter((m) => !m.replyToId).sort(byTime);
  const rootIds = new Set(roots.map((m) => m.id));
  const replies = new Map<string, TranscriptMessage[]>();
  for (const m of messages) if (m.replyToId) replies.set(m.replyToId, [...(replies.get(m.replyToId) ?? []), m]);
  // Replies whose root was deleted are kept, under a placeholder.
  const orphanRoots = [...replies.keys()].filter((id) => !rootIds.has(id)).sort();
  const threads = [...roots.map((r) => ({ root: block(r, false), key: r.id })), ...orphanRoots.map((id) => ({ root: '<div class="message"><i>(message deleted)</i></div>', key: id }))];
  const body = threads.map((t) => `<section class="thread">${t.root}${(replies.get(t.key) ?? []).sort(byTime).map((r) => block(r, true)).join('')}</section>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`${team} – ${channel}`)}</title>
<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}section.thread{border-bottom:1px solid #ddd;padding:.5em 0}.reply{margin-left:2.5em;border-left:3px solid #ccc;padding-left:.7em;margin-top:.4em}.head{color:#555;font-size:.9em}.body{margin:.2em 0}</style>
</head><body><h1>${escapeHtml(team)} › ${escapeHtml(channel)}</h1>
<p>${roots.length} conversations, ${messages.length} messages.</p>
${body}
</body></html>
`;
}
