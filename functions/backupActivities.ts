import * as df from 'durable-functions';
import { hostname } from 'node:os';
import { ChunkIndex, ContentWriter } from '../shared/repo';
import type { Service } from '../shared/graph';
import { backupService } from '../shared/backup/m365/serviceBackup';
import { servicePartition } from '../shared/backup/m365/partitions';
import { sourceFor, tenantUsers } from '../shared/backup/m365/tenantBackup';
import { recordRun, recordServiceOutcome } from '../shared/backup/m365/runLog';
import { appServices } from './runtime';
import type { BackupServiceInput, RunTotals, ServiceOutcome, UserRef } from './contracts';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Lists the tenant's users and which services each has (those without are skipped). */
export const listTenantUsers = df.app.activity('listTenantUsers', {
  handler: async (input: { tenant: string; user?: string; services: Service[] }): Promise<UserRef[]> => {
    const t = await appServices().tenant(input.tenant);
    const users = await tenantUsers(await t.graph(), input.tenant, input.user);
    return users.map((u) => ({ id: u.id, upn: u.userPrincipalName, displayName: u.displayName, services: input.services.filter((s) => u.services.includes(s)) }));
  },
});

/**
 * One work unit: one service of one user into its own snapshot (delta since the last one). The
 * outcome is also written to the run log in storage, so the report does not travel through history.
 */
export const backupUserService = df.app.activity('backupUserService', {
  handler: async (input: BackupServiceInput): Promise<ServiceOutcome & { more: boolean }> => {
    const services = appServices();
    const t = await services.tenant(input.tenant);
    const conn = await t.graph();
    const spoolDir = join(tmpdir(), `m365-backup-${process.pid}-${randomBytes(6).toString('hex')}`);
    await mkdir(spoolDir, { recursive: true, mode: 0o700 });
    const index = await ChunkIndex.open(t.repo);
    const writer = new ContentWriter(t.repo, index, { workers: 1 });
    let outcome: ServiceOutcome & { more: boolean };
    try {
      const r = await backupService(t.repo, {
        partitionName: servicePartition(input.tenant, input.userId, input.service),
        source: sourceFor(input.service, { conn, userId: input.userId, spoolDir, calendarWindowDays: services.settings.calendarWindowDays, pageSize: 100 }),
        writer,
        label: { tenant: input.tenant, userId: input.userId, userPrincipalName: input.userPrincipalName, service: input.service },
        deadline: Date.now() + services.settings.unitSeconds * 1000,
      });
      await writer.flush();
      outcome = { service: input.service, status: r.snapshot.status, snapshot: r.snapshot.seq, items: r.snapshot.stats.items, fetched: r.fetched, fetchedBytes: r.fetchedBytes, removed: r.removed, failed: r.failures.length, more: r.more };
      const { more: _more, ...logged } = outcome;
      await recordServiceOutcome(t.repo, `${input.runId}`, { userId: input.userId, userPrincipalName: input.userPrincipalName, ...logged, unit: input.unit ?? 1, failures: r.failures, host: hostname() });
    } finally {
      await writer.close().catch(() => undefined);
      await rm(spoolDir, { recursive: true, force: true }).catch(() => undefined);
    }
    await index.save();
    return outcome;
  },
});

/** Stores the run's report (totals and status) at the end of a tenant run. */
export const finishBackupRun = df.app.activity('finishBackupRun', {
  handler: async (input: { tenant: string; runId: string; totals: RunTotals; users: UserRef[] }): Promise<{ status: string }> => {
    const t = await appServices().tenant(input.tenant);
    const status = input.totals.partial > 0 ? 'partial' : 'complete';
    const users = input.users.map((u) => ({ id: u.id, userPrincipalName: u.upn, displayName: u.displayName, services: u.services }));
    await recordRun(t.repo, input.tenant, users, { runId: input.runId, status, totals: input.totals, finished: new Date().toISOString() });
    return { status };
  },
});
