import { api } from './api.js';
import { h, show, table } from './dom.js';
import { bytes, count, when } from './format.js';
import { sessionPath } from './session.js';

/** The restore audit log of each tenant (admins), and a console restore's progress and report. */
interface Entry {
  time: string;
  who: string;
  what: { user?: string; services: string[]; at?: string; path?: string; items?: string[] };
  where: { kind: string; user?: string; conflict?: string };
  restoreId: string;
  via: string;
}

export async function auditView(): Promise<boolean> {
  const { tenants } = await api<{ tenants: { name: string }[] }>('/api/tenants');
  const sections: Node[] = [];
  for (const t of tenants) {
    const { entries } = await api<{ entries: Entry[] }>(`/api/audit?tenant=${encodeURIComponent(t.name)}`);
    const rows = entries.map((e) => [when(e.time), e.who, e.what.user ?? 'every user', e.what.items ? `${e.what.services.join(', ')} (${e.what.items.length} selected)` : e.what.services.join(', '), e.what.at ? when(e.what.at) : 'latest', e.where.kind === 'user' ? `user ${e.where.user ?? ''}` : e.where.kind === 'folder' ? 'zip download' : 'in place', e.restoreId]);
    sections.push(rows.length ? table(`Restores of ${t.name}, newest first`, ['When', 'Who', 'User', 'Services', 'As at', 'Where to', 'Restore'], rows) : h('p', {}, `No restore of ${t.name} yet.`));
  }
  show('Restore audit log', ...sections);
  return false;
}

interface RestoreStatus {
  id: string;
  runtimeStatus: string;
  progress: { phase?: string; status?: string; items?: number; counts?: { restored: number; skipped: number; renamed: number; failed: number }; files?: number; filesDone?: number; parts?: number; partsDone?: number } | null;
  files?: number;
  bytes?: number;
  failureCount?: number;
  failures?: { path: string; reason: string }[];
  counts?: { restored: number; skipped: number; renamed: number; failed: number };
  parts?: { user?: string; target?: string; service?: string; restored: number; skipped: number; renamed: number; failed: number }[];
  destination?: { kind: string; user?: string };
  conflict?: string;
  downloadUrl?: string;
  downloadExpires?: string;
  error?: string;
}

export async function consoleRestoreView(id: string): Promise<boolean> {
  const r = await api<RestoreStatus>(sessionPath(`restores/${encodeURIComponent(id)}`));
  const done = r.runtimeStatus === 'Completed';
  // A restore into Microsoft 365 ends complete or partial (an item failed, with its reason below).
  const verdict = done ? (r.progress?.status ?? 'complete') : r.runtimeStatus;
  const where = r.destination ? (r.destination.kind === 'user' ? ` · into ${r.destination.user ?? 'another user'}` : ' · in place') + (r.conflict ? `, conflicts: ${r.conflict}` : '') : '';
  const parts: (Node | null)[] = [h('p', {}, h('span', { class: `status status-${verdict}` }, verdict), done ? '' : ` · ${r.progress?.phase ?? 'starting'}`, where)];
  if (r.error) parts.push(h('p', { class: 'error', role: 'alert' }, r.error));
  if (!done && r.counts && r.progress?.items) {
    const c = r.counts;
    const sofar = c.restored + c.skipped + c.renamed + c.failed;
    parts.push(h('p', {}, h('label', { for: 'restore-progress' }, 'Items written'), ' ', h('progress', { id: 'restore-progress', max: String(r.progress.items), value: String(sofar) }), ` ${count(sofar)} of ${count(r.progress.items)}`));
  }
  // The zip, written one user at a time: files written so far of the plan's files.
  const p = r.progress;
  if (!done && !r.counts && p?.phase === 'restoring' && p.files !== undefined) {
    parts.push(h('p', {}, h('label', { for: 'restore-progress' }, 'Files written'), ' ', h('progress', { id: 'restore-progress', max: String(Math.max(p.files, 1)), value: String(p.filesDone ?? 0) }), ` ${count(p.filesDone ?? 0)} of ${count(p.files)}`));
  }
  if (done) {
    if (r.counts) {
      const c = r.counts;
      parts.push(table('Restore report', ['Restored', 'Skipped (already there)', 'Renamed (beside the existing one)', 'Failed'], [[count(c.restored), count(c.skipped), count(c.renamed), count(c.failed)]], [0, 1, 2, 3]));
      parts.push(h('p', {}, `Restored ${c.restored}, skipped ${c.skipped}, renamed ${c.renamed}, failed ${c.failed}.`));
    } else parts.push(table('Restore report', ['Files', 'Bytes', 'Failed'], [[count(r.files), bytes(r.bytes), count(r.failureCount)]], [0, 1, 2]));
    if (r.parts?.length)
      parts.push(table('Each user and service', ['User', 'Written into', 'Service', 'Restored', 'Skipped', 'Renamed', 'Failed'], r.parts.map((p) => [p.user ?? '', p.target ?? '', p.service ?? '', count(p.restored), count(p.skipped), count(p.renamed), count(p.failed)]), [3, 4, 5, 6]));
    if (r.failures?.length) parts.push(table('Items that could not be restored', ['Item', 'Reason'], r.failures.map((f) => [f.path, f.reason])));
    if (r.downloadUrl) parts.push(h('p', {}, h('a', { class: 'button', href: r.downloadUrl, download: '' }, 'Download the zip'), ` (until ${when(r.downloadExpires ?? '')})`));
  }
  show(`Restore ${id}`, ...parts);
  return !done && !['Failed', 'Terminated'].includes(r.runtimeStatus);
}
