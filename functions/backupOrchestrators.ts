import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { mergeOutcomes } from '../shared/m365';
import { addOutcome, emptyTotals, type BackupTenantInput, type BackupUserInput, type BeginRunOutput, type RunTotals, type ServiceOutcome } from './contracts';
import type { Service } from '../shared/m365';

/** Activities are retried by the Durable runtime: a crashed or timed-out attempt runs again. */
const RETRY = new df.RetryOptions(5_000, 3);
RETRY.backoffCoefficient = 2;

/** Work units per service and night before the rest waits for the next run. */
const MAX_UNITS = 100;

/** Users started per generation; after each, continueAsNew keeps the history short. */
const USERS_PER_GENERATION = 50;

/**
 * backupTenant: begins the run once (tenant-run lease + the roster of users, kept in storage), then
 * backs users up in sub-orchestrations addressed by roster index with bounded parallelism,
 * `USERS_PER_GENERATION` per generation; custom status shows progress; the report is stored at the
 * end. Its input, output and status hold counts and indexes only. No I/O here.
 */
const backupTenant: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as BackupTenantInput;
  const runId = input.runId ?? context.df.instanceId;
  let userCount = input.userCount;
  if (userCount === undefined) {
    const begun = (yield context.df.callActivityWithRetry('beginBackupRun', RETRY, { tenant: input.tenant, runId, services: input.services, user: input.user })) as BeginRunOutput;
    if ('refused' in begun) {
      // Another run of this tenant holds the lease: this one ends cleanly without touching anything.
      context.df.setCustomStatus({ phase: 'refused', reason: begun.refused });
      return { runId, tenant: input.tenant, status: 'refused', reason: begun.refused, totals: emptyTotals() };
    }
    userCount = begun.users;
  }
  let totals: RunTotals = input.totals ?? emptyTotals();
  let offset = input.offset ?? 0;
  const parallelism = Math.max(1, input.parallelism ?? 4);
  const end = Math.min(userCount, offset + USERS_PER_GENERATION);
  const status = (phase: string, done: number) =>
    context.df.setCustomStatus({ phase, usersDone: done, usersTotal: userCount, items: totals.items, fetched: totals.fetched, fetchedBytes: totals.fetchedBytes, failed: totals.failed });
  status('backing up', offset);
  while (offset < end) {
    const batch: number[] = [];
    for (let i = offset; i < Math.min(end, offset + parallelism); i++) batch.push(i);
    const results = (yield context.df.Task.all(
      batch.map((index) => context.df.callSubOrchestrator('backupUser', { tenant: input.tenant, runId, index, services: input.services } satisfies BackupUserInput, `${runId}:u${index}`)),
    )) as ServiceOutcome[][];
    for (const outcomes of results) {
      totals = { ...totals, users: totals.users + 1 };
      for (const o of outcomes) totals = addOutcome(totals, o);
    }
    offset += batch.length;
    status('backing up', offset);
  }
  if (offset < userCount) {
    context.df.continueAsNew({ ...input, runId, userCount, offset, totals } satisfies BackupTenantInput);
    return undefined;
  }
  const { status: runStatus } = (yield context.df.callActivityWithRetry('finishBackupRun', RETRY, { tenant: input.tenant, runId, totals })) as { status: string };
  status('done', userCount);
  return { runId, tenant: input.tenant, status: runStatus, totals };
};
df.app.orchestration('backupTenant', backupTenant);

/** backupUser: one work unit at a time per service, in order (a mailbox's services share its request budget). */
const backupUser: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as BackupUserInput;
  const services = (yield context.df.callActivityWithRetry('userServices', RETRY, { tenant: input.tenant, runId: input.runId, index: input.index, services: input.services })) as Service[];
  const outcomes: ServiceOutcome[] = [];
  for (const service of services) {
    // Work units of one service: each commits a snapshot and says whether more remains.
    let total: ServiceOutcome | undefined;
    try {
      for (let unit = 1; ; unit++) {
        const o = (yield context.df.callActivityWithRetry('backupUserService', RETRY, { tenant: input.tenant, runId: input.runId, index: input.index, service, unit })) as ServiceOutcome & { more: boolean };
        total = mergeOutcomes(total, o);
        if (!o.more || unit >= MAX_UNITS) break;
      }
      const { more: _more, ...outcome } = total as ServiceOutcome & { more?: boolean };
      outcomes.push(outcome);
    } catch {
      // Retries exhausted: this service failed for this user (the unit recorded why); the others go on.
      outcomes.push({ service, status: 'failed', snapshot: total?.snapshot ?? 0, items: total?.items ?? 0, fetched: total?.fetched ?? 0, fetchedBytes: total?.fetchedBytes ?? 0, removed: total?.removed ?? 0, failed: (total?.failed ?? 0) + 1 });
    }
  }
  return outcomes;
};
df.app.orchestration('backupUser', backupUser);
