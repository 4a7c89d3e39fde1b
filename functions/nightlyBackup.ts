import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { backupServicesOf } from '../shared/m365';
import { appServices } from './runtime';
import { startPerTenant } from './startPerTenant';
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
  handler: (timer: Timer, context: InvocationContext) =>
    startPerTenant(timer, context, 'nightly backup', 'backupTenant', nightlyInstanceId, (tenant, record): BackupTenantInput => ({ tenant, services: backupServicesOf(record), parallelism: appServices().settings.userParallelism })),
});
