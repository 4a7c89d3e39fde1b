import type { TenantBackupReport } from '../shared/backup/m365/tenantBackup';
import { formatBytes, formatDuration } from './format';

/** A tenant backup report for a person: one line per user, totals, then failures on stderr. */
export function printTenantReport(r: TenantBackupReport, log: (s: string) => void = console.log): void {
  const secs = (Date.parse(r.finished) - Date.parse(r.started)) / 1000;
  log(`Tenant "${r.tenant}": ${r.status}, ${r.users.length} user(s) in ${formatDuration(secs * 1000)} (run ${r.runId}).`);
  for (const u of r.users) {
    const parts = u.services.map((s) => `${s.service} #${s.snapshot} ${s.status === 'complete' ? '' : s.status + ' '}${s.items} items (+${s.fetched} ${formatBytes(s.fetchedBytes)}, -${s.removed})${s.resynced ? ' resynced' : ''}`);
    log(`  ${u.userPrincipalName}: ${parts.join('; ')}${u.skipped.length ? `; skipped ${u.skipped.join(', ')}` : ''}`);
  }
  log(
    `  Fetched ${r.totals.fetched} items (${formatBytes(r.totals.fetchedBytes)}), ${r.totals.removed} removed; stored ${r.content.newChunks} new chunks (${formatBytes(r.content.storedBytes)}); Graph: ${r.graph.requests} requests, ${r.graph.throttled} throttled, ${r.graph.retries} retries.`,
  );
  for (const u of r.users) for (const s of u.services) for (const f of s.failures) console.error(`failed: ${u.userPrincipalName} ${s.service} ${f.id}: ${f.reason}`);
  if (r.totals.failed) console.error(`${r.totals.failed} item(s) failed; they will be retried by the next backup.`);
}
