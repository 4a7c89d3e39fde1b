import { api } from './api.js';
import { h, show } from './dom.js';
import { bytes } from './format.js';
import { browseHref, query, sessionPath } from './session.js';

/**
 * One item: its fields; a message's body in a sandboxed iframe (no script, no same origin, the
 * document itself served sanitised with a CSP `sandbox` header); images as images; text as text.
 */
interface Preview {
  item: { id: string; name: string; type: string };
  snapshot: number;
  kind: 'mail' | 'text' | 'image' | 'event' | 'contact' | 'none';
  fields: { label: string; value: string }[];
  attachments?: { name: string; contentType: string; size: number }[];
  text?: string;
  note?: string;
}

export async function previewView(user: string, service: string, snapshot: string, item: string): Promise<boolean> {
  const p = await api<Preview>(sessionPath(`preview?${query({ user, service, snapshot, item })}`));
  const content = sessionPath(`content?${query({ user, service, snapshot: String(p.snapshot), item })}`);
  const body: (Node | null)[] = [];
  if (p.kind === 'mail') body.push(h('iframe', { class: 'mail', sandbox: '', src: content, title: `The message "${p.item.name}"`, referrerpolicy: 'no-referrer' }));
  else if (p.kind === 'image') body.push(h('img', { src: content, alt: `Preview of ${p.item.name}`, class: 'image' }));
  else if (p.text !== undefined) body.push(h('pre', { class: 'text' }, p.text));
  if (p.note) body.push(h('p', { class: 'muted' }, p.note));
  show(
    p.item.name || '(no subject)',
    h('p', {}, h('a', { href: browseHref(user, service, p.snapshot) }, `Back to ${user} · ${service} · snapshot ${p.snapshot}`), ' · ', h('a', { href: '#/search' }, 'Search')),
    h('dl', { class: 'fields' }, ...p.fields.flatMap((f) => [h('dt', {}, f.label), h('dd', {}, f.value)])),
    p.attachments?.length ? h('p', {}, `Attachments: ${p.attachments.map((a) => `${a.name} (${a.contentType}, ${bytes(a.size)})`).join('; ')}`) : null,
    ...body,
  );
  return false;
}
