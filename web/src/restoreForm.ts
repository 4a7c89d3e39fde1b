import { api } from './api.js';
import { h } from './dom.js';
import { sessionPath } from './session.js';

/**
 * Restore what is shown (one user's service as it was at that snapshot): to a zip download, in
 * place, or to another user, with the conflict choice — the fields of POST /api/restores, sent to
 * the session's restore endpoint (the password is not asked again). Progress: #/restored/<id>.
 */
export function restoreForm(o: { user: string; service: string; at: string; snapshot: number }): HTMLElement {
  const radio = (value: string, label: string, checked = false) => {
    const id = `dest-${value}`;
    return h('span', { class: 'choice' }, h('input', { type: 'radio', name: 'destination', id, value, ...(checked ? { checked: '' } : {}) }), h('label', { for: id }, label));
  };
  const target = h('input', { id: 'restore-target', type: 'email', autocomplete: 'off', placeholder: 'user@contoso.com' });
  const conflict = h('select', { id: 'restore-conflict' }, h('option', { value: 'skip' }, 'skip items that exist'), h('option', { value: 'rename' }, 'restore beside them, renamed'), h('option', { value: 'replace' }, 'replace them'));
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'restore-title' },
    h('h2', { id: 'restore-title' }, `Restore the ${o.service} of ${o.user} as at snapshot ${o.snapshot}`),
    h('fieldset', {}, h('legend', {}, 'Where to'), radio('folder', 'Download (zip)', true), radio('in-place', 'Back into Microsoft 365, in place'), radio('user', 'Into another user')),
    h('p', {}, h('label', { for: 'restore-target' }, 'Other user (for "into another user")'), ' ', target),
    h('p', {}, h('label', { for: 'restore-conflict' }, 'When an item exists'), ' ', conflict),
    h('button', { type: 'submit' }, 'Start restore'),
    status,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const kind = (form.querySelector('input[name="destination"]:checked') as HTMLInputElement | null)?.value ?? 'folder';
    const body: Record<string, unknown> = { user: o.user, services: [o.service], at: o.at };
    if (kind !== 'folder') {
      body.destination = kind === 'user' ? { kind, user: target.value.trim() } : { kind };
      body.conflict = conflict.value;
    }
    status.className = '';
    status.textContent = 'Starting…';
    api<{ id: string }>(sessionPath('restores'), { method: 'POST', body })
      .then((r) => (location.hash = `#/restored/${encodeURIComponent(r.id)}`))
      .catch((err: unknown) => {
        status.textContent = err instanceof Error ? err.message : String(err);
        status.className = 'error';
      });
  });
  return form;
}
