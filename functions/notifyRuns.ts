import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { notifyTenant } from '../shared/notify';
import { appServices } from './runtime';
import { runSummary, type RunSummary } from './http/console';

/**
 * Every 10 minutes: for each tenant, the backups of the last two days that failed or ended
 * partial, and yesterday's nightly run if it never started, each reported once — posted to the
 * tenant's webhook (shared/notify) and written as one `m365b-run-alert` log line, which the Azure
 * Monitor alert rule in infra/modules/alerts.bicep counts (so an alert fires with or without a webhook).
 */
export function consoleUrl(): string {
  const explicit = process.env.CONSOLE_URL?.trim();
  if (explicit) return explicit.endsWith('/') ? explicit : `${explicit}/`;
  const host = process.env.WEBSITE_HOSTNAME?.trim();
  // The local host serves plain HTTP on loopback (and sets WEBSITE_HOSTNAME as Azure does).
  const local = !host || /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host);
  return `${local ? 'http' : 'https'}://${host || 'localhost:7071'}/api/console/`;
}

app.timer('notifyRuns', {
  schedule: '0 */10 * * * *',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: unknown, context: InvocationContext) => {
    const now = new Date();
    const all = await df.getClient(context).getStatusBy({ createdTimeFrom: new Date(now.getTime() - 2 * 86_400_000) });
    const runs = all.map(runSummary).filter((r): r is RunSummary => !!r);
    for (const t of await (await appServices().tenants()).list()) {
      try {
        const { repo } = await appServices().tenant(t.name);
        const r = await notifyTenant(repo, t, runs, { now, consoleUrl: consoleUrl() });
        for (const n of r.notices) context.log(`m365b-run-alert event=${n.event} tenant=${n.tenant} run=${n.runId ?? n.date} failedItems=${n.counts.failedItems}`);
        if (r.failed.length) context.warn(`notifications of ${t.name} not delivered (retried next time): ${r.failed.join(', ')}`);
      } catch (e) {
        context.error(`notifications of ${t.name} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  },
});
