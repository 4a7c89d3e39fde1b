/**
 * Which runs deserve a notification, and what it says. Pure: the caller lists runs and posts.
 * A notice carries the tenant's name, the run's id and status, counts and a link to the run in the
 * console — never a user, an item, a reason text (reasons can name items) or a secret.
 */
export interface RunFacts {
  id: string;
  tenant: string;
  kind: 'nightly' | 'manual' | 'restore';
  runtimeStatus: string;
  /** The run's verdict (complete, partial, failed, refused) or its phase. */
  status: string;
  totals: { users?: number; items?: number; failed?: number } | null;
}

export interface RunNotice {
  /** Idempotency key: the run id, or missed-<tenant>-<date>. */
  key: string;
  tenant: string;
  event: 'run-failed' | 'run-partial' | 'run-missed';
  runId?: string;
  date?: string;
  counts: { users: number; items: number; failedItems: number };
  link: string;
}

const DONE = ['Completed', 'Failed', 'Terminated'];

/** Finished backups that failed or were partial. */
export function failedRunNotices(runs: readonly RunFacts[], consoleUrl: string): RunNotice[] {
  return runs
    .filter((r) => r.kind !== 'restore' && DONE.includes(r.runtimeStatus))
    .filter((r) => r.runtimeStatus !== 'Completed' || ['partial', 'failed', 'refused'].includes(r.status))
    .map((r) => ({
      key: r.id,
      tenant: r.tenant,
      event: r.status === 'partial' ? 'run-partial' : 'run-failed',
      runId: r.id,
      counts: { users: Number(r.totals?.users ?? 0), items: Number(r.totals?.items ?? 0), failedItems: Number(r.totals?.failed ?? 0) },
      link: `${consoleUrl}#/run/${encodeURIComponent(r.id)}`,
    }));
}

/**
 * Yesterday's nightly run (UTC date) that never started, for a tenant registered before that day.
 * Nightly ids are `nightly-<tenant>-<yyyy-mm-dd>`, one per day, so absence is the signal.
 */
export function missedRunNotice(tenant: { name: string; created: string }, runIds: ReadonlySet<string>, now: Date, consoleUrl: string): RunNotice | undefined {
  const yesterday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1));
  const date = yesterday.toISOString().slice(0, 10);
  if (!(Date.parse(tenant.created) < yesterday.getTime())) return undefined;
  if (runIds.has(`nightly-${tenant.name}-${date}`)) return undefined;
  return { key: `missed-${tenant.name}-${date}`, tenant: tenant.name, event: 'run-missed', date, counts: { users: 0, items: 0, failedItems: 0 }, link: `${consoleUrl}#/tenant/${encodeURIComponent(tenant.name)}` };
}

/**
 * The JSON posted: `text` is what Slack and Teams incoming webhooks display (both accept a bare
 * {"text": …}); the same facts follow as fields for other receivers.
 */
export function webhookBody(n: RunNotice): Record<string, unknown> {
  const what =
    n.event === 'run-missed'
      ? `The nightly backup of tenant ${n.tenant} for ${n.date} did not run.`
      : `Backup ${n.runId} of tenant ${n.tenant} ${n.event === 'run-partial' ? 'finished partially' : 'failed'}: ${n.counts.failedItems} failed items of ${n.counts.items}, ${n.counts.users} users.`;
  return { text: `${what} ${n.link}`, event: n.event, tenant: n.tenant, ...(n.runId ? { runId: n.runId } : {}), ...(n.date ? { date: n.date } : {}), counts: n.counts, link: n.link };
}
