import { api } from './api.js';
import { h } from './dom.js';
import { when } from './format.js';
import { clearSelection, selectedOf, selectionTime } from './selection.js';
import { sessionPath } from './session.js';

/**
 * The restore form under a listing: what (the ticked items and folders, this service at this
 * snapshot, or everything of the user), where to (a zip download, in place, another user) and the
 * conflict choice — the fields of POST /api/restores, sent to the session's restore endpoint (the
 * password is not asked again). "Download zip" sends the ticked items to the zip (a folder brings
 * its subtree). Progress and the report: #/restored/<id>. `refresh` redraws the
 * selection part after a tick.
 */
export function restoreForm(o: { user: string; service: string; at: string; snapshot: number }): { form: HTMLElement; refresh(): void } {
  const radio = (group: string, value: string, label: string, checked = false) => {
    const id = `${group}-${value}`;
    return h('span', { class: 'choice' }, h('input', { type: 'radio', name: group, id, value, ...(checked ? { checked: '' } : {}) }), h('label', { for: id }, label));
  };
  const target = h('input', { id: 'restore-target', type: 'email', autocomplete: 'off', placeholder: 'user@contoso.com' });
  const conflict = h('select', { id: 'restore-conflict' }, h('option', { value: 'skip' }, 'skip items that exist'), h('option', { value: 'rename' }, 'restore beside them, renamed'), h('option', { value: 'replace' }, 'replace them'));
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const selectedLabel = h('label', { for: 'what-selected' });
  const selectedBox = h('input', { type: 'radio', name: 'what', id: 'what-selected', value: 'selected' });
  const selectedList = h('ul', { class: 'selection', 'aria-label': 'Selected items' });
  const clear = h('button', { type: 'button', class: 'secondary' }, 'Clear selection');
  // The one-click download of the ticked items: the form with "selected" and "Download (zip)".
  const download = h('button', { type: 'button', class: 'secondary' }, 'Download zip');
  download.addEventListener('click', () => {
    selectedBox.checked = true;
    (form.querySelector('#destination-folder') as HTMLInputElement).checked = true;
    form.requestSubmit();
  });
  clear.addEventListener('click', () => {
    clearSelection();
    for (const b of document.querySelectorAll<HTMLInputElement>('main table input[type="checkbox"], #select-folder')) b.checked = false;
    refresh();
  });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'restore-title' },
    h('h2', { id: 'restore-title' }, `Restore from ${o.user}'s backup`),
    h(
      'fieldset',
      {},
      h('legend', {}, 'What'),
      h('span', { class: 'choice' }, selectedBox, selectedLabel),
      radio('what', 'service', `All of ${o.service} as at snapshot ${o.snapshot}`, true),
      radio('what', 'user', `Everything of ${o.user} (every service) as at ${when(o.at)}`),
      selectedList,
      download,
      ' ',
      clear,
    ),
    h('fieldset', {}, h('legend', {}, 'Where to'), radio('destination', 'folder', 'Download (zip)', true), radio('destination', 'in-place', 'Back into Microsoft 365, in place'), radio('destination', 'user', 'Into another user')),
    h('p', {}, h('label', { for: 'restore-target' }, 'Other user (for "into another user")'), ' ', target),
    h('p', {}, h('label', { for: 'restore-conflict' }, 'When an item exists'), ' ', conflict),
    h('button', { type: 'submit' }, 'Start restore'),
    status,
  );
  function refresh(): void {
    const picked = selectedOf(o.user);
    selectedLabel.textContent = picked.length ? `The ${picked.length} selected item${picked.length === 1 ? '' : 's'} (as at ${when(selectionTime(picked)!)})` : 'The selected items (tick them in the listing)';
    selectedBox.disabled = picked.length === 0;
    clear.hidden = picked.length === 0;
    download.hidden = picked.length === 0;
    if (picked.length) selectedBox.checked = true;
    else if (selectedBox.checked) (form.querySelector('#what-service') as HTMLInputElement).checked = true;
    selectedList.replaceChildren(...picked.map((s) => h('li', {}, `${s.name} · ${s.service} · snapshot ${s.snapshot}`)));
  }
  refresh();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const checked = (name: string) => (form.querySelector(`input[name="${name}"]:checked`) as HTMLInputElement | null)?.value;
    const what = checked('what') ?? 'service';
    const kind = checked('destination') ?? 'folder';
    const picked = selectedOf(o.user);
    const body: Record<string, unknown> = { user: o.user };
    if (what === 'selected') Object.assign(body, { services: [...new Set(picked.map((s) => s.service))], at: selectionTime(picked), items: picked.map((s) => s.id) });
    else if (what === 'service') Object.assign(body, { services: [o.service], at: o.at });
    else body.at = o.at;
    if (kind !== 'folder') {
      body.destination = kind === 'user' ? { kind, user: target.value.trim() } : { kind };
      body.conflict = conflict.value;
    }
    status.className = '';
    status.textContent = 'Starting…';
    api<{ id: string }>(sessionPath('restores'), { method: 'POST', body })
      .then((r) => {
        if (what === 'selected') clearSelection();
        location.hash = `#/restored/${encodeURIComponent(r.id)}`;
      })
      .catch((err: unknown) => {
        status.textContent = err instanceof Error ? err.message : String(err);
        status.className = 'error';
      });
  });
  return { form, refresh };
}
