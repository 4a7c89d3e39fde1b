import * as df from 'durable-functions';
import { beginTenantRun, finishTenantRun, recordUnchangedRange, runServiceUnit, rosterServices } from '../shared/backup/m365/runUnits';
import { appServices } from './runtime';
import { redactingErrors } from '../shared/redact';
import type { BackupServiceInput, BeginRunInput, BeginRunOutput, FinishRunInput, RecordUnchangedInput, ServiceOutcome } from './contracts';
import type { Service } from '../shared/m365';

/**
 * Takes the tenant-run lease, lists the users page by page (probing only new or stale ones, see the
 * tenant directory) and stores them as the run's roster as it goes; returns the count only.
 */
export const beginBackupRun = df.app.activity('beginBackupRun', {
  handler: redactingErrors(async (input: BeginRunInput): Promise<BeginRunOutput> => {
    const s = appServices();
    const t = await s.tenant(input.tenant);
    return beginTenantRun(t.repo, await t.graph(), { ...input, unitSeconds: s.settings.unitSeconds, probeDays: s.settings.directoryProbeDays });
  }),
});

/** The services (of those asked for) that the roster's user #index has. */
export const userServices = df.app.activity('userServices', {
  handler: redactingErrors(async (input: { tenant: string; runId: string; index: number; services: Service[] }): Promise<Service[]> => {
    const t = await appServices().tenantForRun(input.tenant, input.runId);
    return rosterServices(t.repo, input.runId, input.index, input.services);
  }),
});

/** One work unit: one service of one user, within BACKUP_UNIT_SECONDS; its record goes to the run log. */
export const backupUserService = df.app.activity('backupUserService', {
  handler: redactingErrors(async (input: BackupServiceInput): Promise<ServiceOutcome & { more: boolean }> => {
    const s = appServices();
    const t = await s.tenantForRun(input.tenant, input.runId);
    return runServiceUnit(t.repo, await t.graph(), { ...input, unitSeconds: s.settings.unitSeconds });
  }),
});

/** The range's unchanged (user, service) outcomes, which their units did not record, as one batch row of the run log. */
export const recordUnchangedOutcomes = df.app.activity('recordUnchangedOutcomes', {
  handler: redactingErrors(async (input: RecordUnchangedInput): Promise<number> => {
    const t = await appServices().tenantForRun(input.tenant, input.runId);
    return recordUnchangedRange(t.repo, input);
  }),
});

/** Stores the run's summary and the tenant's `last` reference (run id + totals), and releases the tenant-run lease. */
export const finishBackupRun = df.app.activity('finishBackupRun', {
  handler: redactingErrors(async (input: FinishRunInput): Promise<{ status: string }> => {
    const t = await appServices().tenant(input.tenant);
    return finishTenantRun(t.repo, input);
  }),
});
