import { api, type BackupRun } from './api.js';
import { h, show, statusBadge, table } from './dom.js';
import { bytes, count, when } from './format.js';

/** One backup run: its live progress while it runs; each user × service outcome and every failed item's reason when done. */
export async function runView(id: string): Promise<boolean> {
  const run = await api<BackupRun>(`/api/backups/${encodeURIComponent(id)}`);
  const running = ['Running', 'Pending'].includes(run.runtimeStatus);
  const p = run.progress;
  const summary = h(
    'dl',
    { class: 'card' },
    h('dt', {}, 'Tenant'),
    h('dd', {}, h('a', { href: `#/tenant/${encodeURIComponent(run.tenant)}` }, run.tenant)),
    h('dt', {}, 'Started'),
    h('dd', {}, when(run.createdTime)),
    h('dt', {}, 'Status'),
    h('dd', {}, statusBadge(run.output?.status ?? p?.phase ?? run.runtimeStatus)),
    run.output?.reason ? h('dt', {}, 'Reason') : null,
    run.output?.reason ? h('dd', {}, run.output.reason) : null,
    h('dt', {}, 'Progress'),
    h('dd', {}, running && p ? h('span', {}, h('progress', { max: String(Math.max(Number(p.usersTotal ?? 0), 1)), value: String(p.usersDone ?? 0), 'aria-label': 'Users done' }), ` users ${p.usersDone ?? 0} of ${p.usersTotal ?? '?'}, ${count(p.fetched)} items, ${bytes(p.fetchedBytes)}`) : `users ${p?.usersDone ?? '?'} of ${p?.usersTotal ?? '?'}`),
  );
  const rows = run.report ?? [];
  const outcomes = rows.length
    ? table('Each user and service', ['User', 'Service', 'Status', 'Items', 'Fetched', 'Bytes fetched', 'Removed', 'Failed'], rows.map((r) => [r.userPrincipalName, r.service, statusBadge(r.status), count(r.items), count(r.fetched), bytes(r.fetchedBytes), count(r.removed), count(r.failed)]), [3, 4, 5, 6, 7])
    : h('p', { class: 'muted' }, running ? 'The per-user report appears when the run ends.' : 'No report.');
  const failures = rows.flatMap((r) => r.failures.map((f) => [r.userPrincipalName, r.service, f.id, h('span', { class: 'failure' }, f.reason)]));
  show(
    `Backup run ${id}`,
    summary,
    h('h2', {}, 'Outcomes'),
    outcomes,
    h('h2', {}, `Failed items (${failures.length})`),
    failures.length ? table('Every item that failed, with the reason (retried by the next run)', ['User', 'Service', 'Item', 'Reason'], failures) : h('p', {}, 'No item failed.'),
  );
  return running;
}

export async function restoreView(id: string): Promise<boolean> {
  const r = await api<{ id: string; runtimeStatus: string; progress: Record<string, unknown> | null; createdTime: string; error?: string; bytes?: number; files?: number }>(`/api/restores/${encodeURIComponent(id)}`);
  const running = ['Running', 'Pending'].includes(r.runtimeStatus);
  show(
    `Restore ${id}`,
    h('dl', { class: 'card' }, h('dt', {}, 'Started'), h('dd', {}, when(r.createdTime)), h('dt', {}, 'Status'), h('dd', {}, statusBadge(r.runtimeStatus)), h('dt', {}, 'Phase'), h('dd', {}, String(r.progress?.phase ?? '')), r.error ? h('dt', {}, 'Error') : null, r.error ? h('dd', {}, r.error) : null),
  );
  return running;
}
