import { api, type RunSummary, type TenantOverview } from './api.js';
import { h, show, statusBadge, table } from './dom.js';
import { bytes, count, when } from './format.js';
import { storageSection } from './storage.js';

/** A running run's progress as a labelled bar; a finished one's counts. */
export function progressCell(r: RunSummary): Node {
  const p = r.progress;
  if (['Running', 'Pending'].includes(r.runtimeStatus) && p) {
    const done = Number(p.usersDone ?? 0);
    const total = Number(p.usersTotal ?? 0);
    const label = `${p.phase ?? 'running'}: users ${done} of ${total || '?'}, ${count(p.fetched)} items, ${bytes(p.fetchedBytes)}`;
    return h('span', {}, h('progress', { max: String(Math.max(total, 1)), value: String(done), 'aria-label': `Progress of ${r.id}` }), ' ', label);
  }
  return document.createTextNode('');
}

export function runRows(runs: RunSummary[]): (Node | string)[][] {
  return runs.map((r) => [
    h('a', { href: r.kind === 'restore' ? `#/restore/${encodeURIComponent(r.id)}` : `#/run/${encodeURIComponent(r.id)}` }, r.id),
    r.kind,
    when(r.createdTime),
    statusBadge(r.status),
    count(r.totals?.items ?? r.progress?.items),
    bytes(r.totals?.fetchedBytes ?? r.progress?.fetchedBytes),
    count(r.totals?.failed ?? r.progress?.failed),
    progressCell(r),
  ]);
}

const RUN_HEAD = ['Run', 'Kind', 'Started', 'Status', 'Items', 'Bytes fetched', 'Failed items', 'Progress'];

export async function dashboard(): Promise<boolean> {
  const { tenants } = await api<{ tenants: TenantOverview[] }>('/api/tenants');
  const rows = tenants.map((t) => {
    const r = t.lastBackup;
    return [
      h('a', { href: `#/tenant/${encodeURIComponent(t.name)}` }, t.name),
      r ? h('a', { href: `#/run/${encodeURIComponent(r.id)}` }, when(r.createdTime)) : 'never',
      r ? statusBadge(r.status) : '',
      count(r?.totals?.users ?? r?.progress?.usersTotal),
      count(r?.totals?.items ?? r?.progress?.items),
      bytes(r?.totals?.fetchedBytes ?? r?.progress?.fetchedBytes),
      count(r?.totals?.failed ?? r?.progress?.failed),
      t.running ? `${t.running} running` : '',
    ];
  });
  show('Dashboard', tenants.length ? table('Tenants and their last backup', ['Tenant', 'Last backup', 'Status', 'Users', 'Items', 'Bytes fetched', 'Failed items', 'Now'], rows, [3, 4, 5, 6]) : h('p', {}, 'No tenant is registered yet (m365-backup tenant add).'));
  return tenants.some((t) => t.running > 0);
}

export async function tenantRuns(tenant: string): Promise<boolean> {
  const { runs } = await api<{ runs: RunSummary[] }>(`/api/runs?tenant=${encodeURIComponent(tenant)}`);
  show(`Runs of ${tenant}`, h('p', {}, h('a', { href: '#/' }, 'All tenants')), runs.length ? table(`Backups and restores of ${tenant}, newest first`, RUN_HEAD, runRows(runs), [4, 5, 6]) : h('p', {}, 'No run in the last five weeks.'), await storageSection(tenant));
  return runs.some((r) => ['Running', 'Pending'].includes(r.runtimeStatus));
}
