import { api, type Me } from './api.js';
import { h, show, table } from './dom.js';
import { bytes, when } from './format.js';
import { previewHref, query, session, sessionPath } from './session.js';
import { restoreForm } from './restoreForm.js';
import { isSelected, selectedOf, selectionOwner, setSelected, type Selected } from './selection.js';

/** Search inside the browse session: name/subject, sender or participants, dates, attachments; a user or the tenant; the history or now. */
interface Hit {
  id: string;
  user: string;
  service: string;
  snapshot: number;
  name: string;
  sender?: string;
  date?: string;
  size?: number;
  time: string;
  inLatest: boolean;
}

let last: Record<string, string> = {};

export async function searchView(me: Me): Promise<boolean> {
  const s = session()!;
  const field = (id: string, label: string, attrs: Record<string, string> = {}) => {
    const input = h('input', { id: `q-${id}`, name: id, autocomplete: 'off', ...attrs });
    if (last[id] !== undefined) input.value = last[id]!;
    return { input, row: h('p', {}, h('label', { for: `q-${id}` }, label), ' ', input) };
  };
  const text = field('text', 'Name or subject contains');
  const sender = field('sender', 'Sender (name or address) contains');
  const from = field('from', 'Dated from', { type: 'date' });
  const to = field('to', 'Dated to', { type: 'date' });
  const user = field('user', me.selfServiceOnly ? 'User (you)' : 'User (empty: the whole tenant)', { type: 'email', ...(me.selfServiceOnly ? { value: me.upn, readonly: '' } : {}) });
  if (me.selfServiceOnly) user.input.value = me.upn;
  const participants = h('input', { type: 'checkbox', id: 'q-participants', ...(last.participants === 'true' ? { checked: '' } : {}) });
  const attachments = h('select', { id: 'q-attachments' }, h('option', { value: '' }, 'either'), h('option', { value: 'true' }, 'with attachments'), h('option', { value: 'false' }, 'without'));
  attachments.value = last.hasAttachments ?? '';
  const history = h('input', { type: 'checkbox', id: 'q-history', ...(last.history === 'false' ? {} : { checked: '' }) });
  const results = h('div', { id: 'results', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card', role: 'search', 'aria-label': 'Search the backups' },
    text.row,
    sender.row,
    h('p', {}, participants, ' ', h('label', { for: 'q-participants' }, 'or any recipient')),
    from.row,
    to.row,
    h('p', {}, h('label', { for: 'q-attachments' }, 'Attachments'), ' ', attachments),
    user.row,
    h('p', {}, history, ' ', h('label', { for: 'q-history' }, 'Every snapshot (finds deleted items)')),
    h('button', { type: 'submit' }, 'Search'),
  );
  const run = async () => {
    last = { text: text.input.value, sender: sender.input.value, from: from.input.value, to: to.input.value, user: user.input.value, participants: String(participants.checked), hasAttachments: attachments.value, history: String(history.checked) };
    results.replaceChildren(h('p', {}, 'Searching…'));
    try {
      const r = await api<{ hits: Hit[]; truncated: boolean; scanned: number }>(sessionPath(`search?${query({ ...last, participants: participants.checked ? 'true' : undefined })}`));
      // A tick selects the hit's version (its snapshot) for a restore; the form appears below the results.
      const restore = h('div', {});
      const boxes: [HTMLInputElement, Hit][] = [];
      const sync = () => {
        for (const [b, x] of boxes) b.checked = isSelected(x.user, x);
        const who = selectionOwner();
        const newest = who ? selectedOf(who).sort((a, b) => a.time.localeCompare(b.time)).at(-1) : undefined;
        restore.replaceChildren(...(who && newest ? [restoreForm({ user: who, service: newest.service, at: newest.time, snapshot: newest.snapshot }).form] : []));
      };
      const rows = r.hits.map((x) => {
        const name = x.name || '(no subject)';
        const box = h('input', { type: 'checkbox', 'aria-label': `Select ${name} (${x.user}, snapshot ${x.snapshot})` });
        box.addEventListener('change', () => {
          const s: Selected = { service: x.service, id: x.id, name, kind: 'item', snapshot: x.snapshot, time: x.time };
          setSelected(x.user, s, box.checked);
          sync();
        });
        boxes.push([box, x]);
        return [box, h('a', { href: previewHref(x.user, x.service, x.snapshot, x.id) }, name), x.sender ?? '', x.date ? when(x.date) : '', x.user, x.service, String(x.snapshot), x.inLatest ? '' : 'deleted or changed since', bytes(x.size)];
      });
      results.replaceChildren(
        h('p', {}, `${r.hits.length}${r.truncated ? '+' : ''} found among ${r.scanned.toLocaleString('en')} stored versions.`),
        rows.length ? table('Search results, newest first', ['Select', 'Name or subject', 'Sender', 'Date', 'User', 'Service', 'Snapshot', 'Now', 'Size'], rows, [6, 8]) : h('p', {}, 'Nothing matches.'),
        restore,
      );
      sync();
    } catch (e) {
      results.replaceChildren(h('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e)));
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  show(`Search ${s.tenant}`, h('p', {}, h('a', { href: '#/browse/users' }, 'Browse'), ' · the session ends after 15 minutes without use'), form, results);
  if (Object.values(last).some((v) => v && v !== 'true' && v !== 'false')) await run();
  return false;
}
