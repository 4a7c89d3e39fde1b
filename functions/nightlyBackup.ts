import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { SERVICES } from '../shared/graph';
import { appServices } from './runtime';
import type { BackupTenantInput } from './contracts';

/** The instance ID of a tenant's nightly run: one per tenant and UTC date, so a night never runs twice. */
export const nightlyInstanceId = (tenant: string, when: Date) => `nightly-${tenant}-${when.toISOString().slice(0, 10)}`;

/**
 * Starts `backupTenant` for every registered tenant on the schedule in BACKUP_SCHEDULE (NCRONTAB,
 * default "0 0 2 * * *"). A second firing the same night finds the instance and starts nothing.
 */
app.timer('nightlyBackup', {
  schedule: '%BACKUP_SCHEDULE%',
  extraInputs: [df.input.durableClient()],
  handler: async (timer: Timer, context: InvocationContext) => {
    const client = df.getClient(context);
    // The night this firing belongs to: when the runtime last updated the schedule (now, in Azure).
    const updated = Date.parse(timer?.scheduleStatus?.lastUpdated ?? '');
    const now = Number.isNaN(updated) ? new Date() : new Date(updated);
    for (const t of await (await appServices().tenants()).list()) {
      const instanceId = nightlyInstanceId(t.name, now);
      const existing = await client.getStatus(instanceId).catch(() => undefined);
      if (existing?.runtimeStatus) {
        context.log(`nightly backup of ${t.name} already started as ${instanceId} (${existing.runtimeStatus})`);
        continue;
      }
      const input: BackupTenantInput = { tenant: t.name, services: [...SERVICES], parallelism: appServices().settings.userParallelism };
      await client.startNew('backupTenant', { instanceId, input });
      context.log(`started nightly backup of ${t.name} as ${instanceId}`);
    }
  },
});
