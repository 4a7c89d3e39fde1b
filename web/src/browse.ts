import { api, type Me } from './api.js';
import { h, show, table } from './dom.js';
import { bytes, count, when } from './format.js';
import { restoreForm } from './restoreForm.js';
import { isSelected, setSelected, type Selected } from './selection.js';
import { browseHref, closeSession, previewHref, query, session, sessionPath, useSession, type BrowseSession } from './session.js';

/**
 * Browse: unlock a tenant's backups (admin: the repository password, once) or pick a session opened
 * for you (self-service); then user → service → point in time → folder → items.
 */
interface Listing {
  user: string;
  service: string;
  snapshot: number;
  time: string;
  timeline: { snapshot: number; time: string; status: string; items: number }[];
  folders: { id: string; name: string; parent?: string; items: number }[];
  items: { id: string; type: string; name: string; sender?: string; date?: string; size?: number; hasAttachments?: boolean }[];
  more: number;
}

const SERVICES = ['mail', 'onedrive', 'calendar', 'contacts'];

function sessionBar(): HTMLElement {
  const s = session()!;
  const close = h('button', { type: 'button' }, 'Close session');
  close.addEventListener('click', () => void closeSession().then(() => (location.hash = '#/browse')));
  return h('p', { class: 'card session' }, `Browsing ${s.tenant} (session ends after 15 minutes without use). `, h('a', { href: '#/search' }, 'Search'), ' ', close);
}

async function unlockView(me: Me): Promise<boolean> {
  const { sessions } = await api<{ sessions: BrowseSession[] }>('/api/browse/sessions');
  const resume = sessions.map((s) => {
    const b = h('button', { type: 'button' }, `Use the session of ${s.tenant}${s.forMe ? ' opened for you' : ''} (until ${when(s.expires)})`);
    b.addEventListener('click', () => {
      useSession(s);
      location.hash = '#/browse/users';
    });
    return h('li', {}, b);
  });
  const parts: (Node | string)[] = [];
  if (resume.length) parts.push(h('h2', {}, 'Open sessions'), h('ul', {}, ...resume));
  if (me.roles.includes('Backup.Admin')) {
    const { tenants } = await api<{ tenants: { name: string }[] }>('/api/tenants');
    const tenant = h('select', { id: 'unlock-tenant', name: 'tenant' }, ...tenants.map((t) => h('option', { value: t.name }, t.name)));
    const password = h('input', { id: 'unlock-password', type: 'password', name: 'password', autocomplete: 'off', required: '' });
    const forUser = h('input', { id: 'unlock-for', type: 'email', name: 'forUser', autocomplete: 'off', placeholder: 'optional: a self-service user' });
    const status = h('p', { role: 'status', 'aria-live': 'polite' });
    const form = h(
      'form',
      { class: 'card', 'aria-labelledby': 'unlock-title' },
      h('h2', { id: 'unlock-title' }, 'Unlock backups'),
      h('p', { class: 'muted' }, 'The repository password opens the key into a short-lived session on the server; it is not kept in this browser.'),
      h('p', {}, h('label', { for: 'unlock-tenant' }, 'Tenant'), ' ', tenant),
      h('p', {}, h('label', { for: 'unlock-password' }, 'Repository password'), ' ', password),
      h('p', {}, h('label', { for: 'unlock-for' }, 'Open it for a self-service user instead (their UPN)'), ' ', forUser),
      h('button', { type: 'submit' }, 'Unlock'),
      status,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const body: Record<string, string> = { tenant: tenant.value, password: password.value };
      if (forUser.value.trim()) body.forUser = forUser.value.trim();
      password.value = '';
      status.textContent = 'Unlocking…';
      api<BrowseSession & { forUser?: string }>('/api/browse/sessions', { method: 'POST', body })
        .then((s) => {
          if (s.forUser) {
            status.textContent = `Session opened for ${s.forUser}: they find it under Browse when they sign in.`;
            return;
          }
          useSession(s);
          location.hash = '#/browse/users';
        })
        .catch((err: unknown) => {
          status.textContent = err instanceof Error ? err.message : String(err);
          status.className = 'error';
        });
    });
    parts.push(form);
  } else if (!resume.length) parts.push(h('p', {}, 'No browse session is open for you. Ask an admin to open one for your account (it lasts until 15 minutes without use).'));
  show('Browse backups', ...parts);
  return false;
}

async function usersView(me: Me): Promise<boolean> {
  const s = session()!;
  const users = me.selfServiceOnly ? [me.upn] : [...new Set((await api<{ snapshots: { user: string }[] }>(`/api/snapshots?${query({ tenant: s.tenant })}`)).snapshots.map((r) => r.user))];
  const rows = users.map((u) => [u, h('span', {}, ...SERVICES.flatMap((svc, i) => [i ? ' · ' : '', h('a', { href: browseHref(u, svc, 'latest') }, svc)]))]);
  show(`Users of ${s.tenant}`, sessionBar(), table('Backed-up users and their services', ['User', 'Browse'], rows));
  return false;
}

function folderTree(l: Listing, current: string | undefined): HTMLElement {
  const children = (parent: string | undefined): HTMLElement | null => {
    const list = l.folders.filter((f) => f.parent === parent);
    if (!list.length) return null;
    return h(
      'ul',
      {},
      ...list.map((f) =>
        h('li', {}, h('a', { href: browseHref(l.user, l.service, l.snapshot, f.id), ...(f.id === current ? { 'aria-current': 'page' } : {}) }, `${f.name} (${f.items})`), children(f.id)),
      ),
    );
  };
  return h('nav', { class: 'tree', 'aria-label': 'Folders' }, h('a', { href: browseHref(l.user, l.service, l.snapshot), ...(current ? {} : { 'aria-current': 'page' }) }, 'Top level'), children(undefined));
}

async function listingView(user: string, service: string, snapshot: string, folder: string | undefined): Promise<boolean> {
  const l = await api<Listing>(sessionPath(`items?${query({ user, service, snapshot, folder })}`));
  const timeline = h('ol', { class: 'timeline', 'aria-label': 'Snapshots, oldest first' }, ...l.timeline.map((t) => h('li', {}, h('a', { href: browseHref(user, service, t.snapshot, folder), ...(t.snapshot === l.snapshot ? { 'aria-current': 'page' } : {}) }, `#${t.snapshot} ${when(t.time)}`), ` ${t.status}, ${count(t.items)} items`)));
  const restore = restoreForm({ user, service, at: l.time, snapshot: l.snapshot });
  const tick = (s: Selected, label: string, id?: string) => {
    const box = h('input', { type: 'checkbox', ...(id ? { id } : { 'aria-label': label }), ...(isSelected(user, s) ? { checked: '' } : {}) });
    box.addEventListener('change', () => {
      setSelected(user, s, box.checked);
      restore.refresh();
    });
    return box;
  };
  const rows = l.items.map((i) => [
    tick({ service, id: i.id, name: i.name || '(no subject)', kind: 'item', snapshot: l.snapshot, time: l.time }, `Select ${i.name || '(no subject)'}`),
    h('a', { href: previewHref(user, service, l.snapshot, i.id) }, i.name || '(no subject)'),
    i.sender ?? '',
    i.date ? when(i.date) : '',
    bytes(i.size),
    i.hasAttachments ? 'yes' : '',
  ]);
  const folderName = folder ? (l.folders.find((f) => f.id === folder)?.name ?? folder) : 'the top level';
  const folderTick = folder
    ? h('p', {}, tick({ service, id: folder, name: `${folderName} (folder)`, kind: 'folder', snapshot: l.snapshot, time: l.time }, `Select the folder ${folderName} and everything in it`, 'select-folder'), ' ', h('label', { for: 'select-folder' }, `Select the folder ${folderName} and everything in it`))
    : null;
  show(
    `${user} · ${service} · snapshot ${l.snapshot}`,
    sessionBar(),
    h('p', {}, h('a', { href: '#/browse/users' }, 'All users'), ` · as it was at ${when(l.time)}`),
    h('h2', {}, 'Points in time'),
    timeline,
    h('div', { class: 'browse' }, folderTree(l, folder), h('div', {}, folderTick, rows.length ? table(`Items in ${folderName} at snapshot ${l.snapshot}`, ['Select', 'Name or subject', 'Sender', 'Date', 'Size', 'Attachments'], rows, [4]) : h('p', {}, `No items in ${folderName}.`), l.more ? h('p', { class: 'muted' }, `${l.more} more items: search to narrow them down.`) : null)),
    restore.form,
  );
  return false;
}

export async function browseRoute(me: Me, parts: string[]): Promise<boolean> {
  if (!session() || parts[1] === undefined) return unlockView(me);
  if (parts[1] === 'users') return usersView(me);
  return listingView(parts[1], parts[2] ?? 'mail', parts[3] ?? 'latest', parts[4]);
}
