import { api, ApiError, type Me } from './api.js';
import { dashboard, tenantRuns } from './dashboard.js';
import { h, show } from './dom.js';
import { restoreView, runView } from './run.js';
import { browseRoute } from './browse.js';
import { searchView } from './search.js';
import { previewView } from './preview.js';
import { auditView, consoleRestoreView } from './audit.js';
import { session } from './session.js';

/**
 * The console: a single page with hash routes (#/, #/tenant/<name>, #/run/<id>, #/restore/<id>,
 * #/browse…, #/search, #/preview/…, #/restored/<id>, #/audit),
 * built only on the JSON API. Signed out, it links to App Service Authentication's sign-in.
 * Views that show running work refresh every 2 seconds (the orchestration's custom status).
 */
const REFRESH_MS = 2000;
let timer: number | undefined;
let me: Me | undefined;

function signInLink(): HTMLElement {
  const back = encodeURIComponent(`/api/console/${location.hash}`);
  return h('a', { class: 'button signin', href: `/.auth/login/aad?post_login_redirect_uri=${back}` }, 'Sign in with Microsoft');
}

function header(): void {
  const who = document.getElementById('who')!;
  if (!me) return who.replaceChildren();
  who.replaceChildren(h('span', {}, `${me.name}${me.roles.length ? ` (${me.roles.join(', ')})` : ' (no Backup role)'}`), h('a', { href: '/.auth/logout?post_logout_redirect_uri=/api/console/' }, 'Sign out'));
}

/** The main navigation, by role: self-service users browse only; admins also see the audit log. */
function nav(): void {
  const links: [string, string][] = me?.selfServiceOnly ? [['#/browse', 'Your backups']] : [['#/', 'Dashboard'], ['#/browse', 'Browse'], ...(me?.roles.includes('Backup.Admin') ? ([['#/audit', 'Audit log']] as [string, string][]) : [])];
  document.getElementById('nav')!.replaceChildren(...links.flatMap(([href, label], i) => [i ? ' ' : '', h('a', { href }, label)]));
}

async function route(): Promise<boolean> {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (!me?.roles.length) {
    show('No access', h('p', {}, 'You are signed in, but have no Backup role for this app. Ask an admin to assign Backup.Admin, Backup.Operator or Backup.SelfService.'));
    return false;
  }
  nav();
  // Browsing needs a session; without one each browse route lands on the unlock / session choice.
  if (parts[0] === 'browse' || (['search', 'preview', 'restored'].includes(parts[0] ?? '') && !session())) return browseRoute(me, parts[0] === 'browse' ? parts : ['browse']);
  if (parts[0] === 'search') return searchView(me);
  if (parts[0] === 'preview' && parts[4]) return previewView(parts[1]!, parts[2]!, parts[3]!, parts[4]);
  if (parts[0] === 'restored' && parts[1]) return consoleRestoreView(parts[1]);
  if (me.selfServiceOnly) return browseRoute(me, ['browse']);
  if (parts[0] === 'audit' && me.roles.includes('Backup.Admin')) return auditView();
  if (parts[0] === 'tenant' && parts[1]) return tenantRuns(parts[1]);
  if (parts[0] === 'run' && parts[1]) return runView(parts[1]);
  if (parts[0] === 'restore' && parts[1]) return restoreView(parts[1]);
  return dashboard();
}

async function render(): Promise<void> {
  if (timer !== undefined) window.clearTimeout(timer);
  timer = undefined;
  try {
    if (!me) {
      me = await api<Me>('/api/me');
      header();
    }
    const live = await route();
    if (live) timer = window.setTimeout(() => void render(), REFRESH_MS);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      me = undefined;
      header();
      show('Sign in', h('p', {}, 'The console shows your tenants\u2019 backups, runs and failures. Sign in with your work account.'), h('p', {}, signInLink()));
      return;
    }
    show('Something went wrong', h('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e)));
  }
}

window.addEventListener('hashchange', () => {
  void render().then(() => document.getElementById('main')?.focus());
});
void render();
