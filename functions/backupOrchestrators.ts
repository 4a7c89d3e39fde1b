import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { mergeOutcomes } from '../shared/backup/m365/runLog';
import { addOutcome, emptyTotals, type BackupTenantInput, type BackupUserInput, type RunTotals, type ServiceOutcome, type UserRef } from './contracts';

/** Activities are retried by the Durable runtime: a crashed or timed-out attempt runs again. */
const RETRY = new df.RetryOptions(5_000, 3);
RETRY.backoffCoefficient = 2;

/** Work units per service and night before the rest waits for the next run. */
const MAX_UNITS = 100;

/** Users started per generation; after each, continueAsNew keeps the history short. */
const USERS_PER_GENERATION = 50;

/**
 * backupTenant: lists users once, then backs them up in sub-orchestrations with bounded
 * parallelism (input.parallelism, from BACKUP_USER_PARALLELISM), `USERS_PER_GENERATION` users per
 * generation; custom status shows progress; the run report is stored at the end. No I/O here.
 */
const backupTenant: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as BackupTenantInput & { parallelism?: number; runId?: string };
  const runId = input.runId ?? context.df.instanceId;
  const users: UserRef[] = input.users ?? ((yield context.df.callActivityWithRetry('listTenantUsers', RETRY, { tenant: input.tenant, user: input.user, services: input.services })) as UserRef[]);
  let totals: RunTotals = input.totals ?? emptyTotals();
  let offset = input.offset ?? 0;
  const parallelism = Math.max(1, input.parallelism ?? 4);
  const end = Math.min(users.length, offset + USERS_PER_GENERATION);
  context.df.setCustomStatus({ phase: 'backing up', usersDone: offset, usersTotal: users.length, items: totals.items, fetched: totals.fetched, fetchedBytes: totals.fetchedBytes, failed: totals.failed });
  while (offset < end) {
    const batch = users.slice(offset, Math.min(end, offset + parallelism));
    const results = (yield context.df.Task.all(
      batch.map((u) => context.df.callSubOrchestrator('backupUser', { tenant: input.tenant, runId, user: u } satisfies BackupUserInput, `${runId}:${u.id}`)),
    )) as ServiceOutcome[][];
    for (const outcomes of results) {
      totals = { ...totals, users: totals.users + 1 };
      for (const o of outcomes) totals = addOutcome(totals, o);
    }
    offset += batch.length;
    context.df.setCustomStatus({ phase: 'backing up', usersDone: offset, usersTotal: users.length, items: totals.items, fetched: totals.fetched, fetchedBytes: totals.fetchedBytes, failed: totals.failed });
  }
  if (offset < users.length) {
    context.df.continueAsNew({ ...input, runId, users, offset, totals });
    return undefined;
  }
  const { status } = (yield context.df.callActivityWithRetry('finishBackupRun', RETRY, { tenant: input.tenant, runId, totals, users })) as { status: string };
  context.df.setCustomStatus({ phase: 'done', usersDone: users.length, usersTotal: users.length, items: totals.items, fetched: totals.fetched, fetchedBytes: totals.fetchedBytes, failed: totals.failed });
  return { runId, tenant: input.tenant, status, totals };
};
df.app.orchestration('backupTenant', backupTenant);

/** backupUser: one work unit per service, in order (a mailbox's services share its request budget). */
const backupUser: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as BackupUserInput;
  const outcomes: ServiceOutcome[] = [];
  for (const service of input.user.services) {
    // Work units of one service: each commits a snapshot and says whether more remains.
    let total: ServiceOutcome | undefined;
    try {
      for (let unit = 1; ; unit++) {
        const o = (yield context.df.callActivityWithRetry('backupUserService', RETRY, { tenant: input.tenant, runId: input.runId, userId: input.user.id, userPrincipalName: input.user.upn, service, unit })) as ServiceOutcome & { more: boolean };
        total = mergeOutcomes(total, o);
        if (!o.more || unit >= MAX_UNITS) break;
      }
      const { more: _more, ...outcome } = total as ServiceOutcome & { more?: boolean };
      outcomes.push(outcome);
    } catch {
      // Retries exhausted: this service failed for this user; the others go on.
      outcomes.push({ service, status: 'failed', snapshot: total?.snapshot ?? 0, items: total?.items ?? 0, fetched: total?.fetched ?? 0, fetchedBytes: total?.fetchedBytes ?? 0, removed: total?.removed ?? 0, failed: 1 });
    }
  }
  return outcomes;
};
df.app.orchestration('backupUser', backupUser);
