import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import { lanesOf, mergeOutcomes, recordedInBatch } from '../shared/m365';
import {
  addOutcome,
  emptyTotals,
  type BackupLaneInput,
  type BackupTenantInput,
  type BackupUserInput,
  type BackupUserRangeInput,
  type BeginRunOutput,
  type RecordUnchangedInput,
  type RunTotals,
  type ServiceOutcome,
} from './contracts';
import type { Service } from '../shared/m365';

/** Activities are retried by the Durable runtime: a crashed or timed-out attempt runs again. */
const RETRY = new df.RetryOptions(5_000, 3);
RETRY.backoffCoefficient = 2;

/** Work units per service and night before the rest waits for the next run. */
const MAX_UNITS = 100;

/**
 * Users per range, at most: one sub-orchestration backs up consecutive roster indexes one after
 * another. Ranges, not single users, are what the window slides over: the parent's history holds
 * ~2 events per range instead of per user, and a slow user holds back at most the rest of its range.
 * Small tenants get smaller ranges (at least 4 per slot of the window) so every slot has work.
 */
export const USERS_PER_RANGE = 5;

/** The range size for a run: from the user count and the window only, so every replay agrees. */
export const rangeSizeFor = (userCount: number, parallelism: number) => Math.max(1, Math.min(USERS_PER_RANGE, Math.floor(userCount / (parallelism * 4))));

/**
 * Ranges started per generation of `backupTenant`; it then waits for the ones in flight (the only
 * drain) and continues as new, so its history stays near ~2 events per range plus the polls
 * (a few hundred events) whatever the tenant's size.
 */
export const RANGES_PER_GENERATION = 100;

/** Bounds of the poll interval (see backupTenant): an eighth of a range's measured duration, within these. */
const POLL_MIN_MS = 500;
const POLL_MAX_MS = 60_000;
/** The shortest interval until a range has finished and its duration is known. */
const POLL_FIRST_MS = 2_000;

const addTotals = (a: RunTotals, b: RunTotals): RunTotals => {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof RunTotals)[]) out[k] += b[k] ?? 0;
  return out;
};

interface RangeInFlight {
  from: number;
  task: Task;
  startedMs: number;
}

/**
 * backupTenant: begins the run once (tenant-run lease + the roster of users, kept in storage), then
 * backs users up through a sliding window of `parallelism` ranges of up to `USERS_PER_RANGE`
 * roster indexes: as soon as a range finishes, the next one starts.
 *
 * Why polling and not "Task.any of what is in flight": durable-functions 3.x sends a new Task.any
 * with all its children, and Azure's extension schedules an already scheduled child a second time
 * (azure-functions-durable-js#574; the local host refuses it). So each range task goes into exactly
 * one Task.any, the one that starts it (with a poll timer); completions of older ranges are recorded
 * on their tasks by replay and picked up when the timer fires. The poll interval follows the ranges'
 * measured duration (an eighth of it), so the wait it adds is ~1/16 of a range on average.
 *
 * After `RANGES_PER_GENERATION` ranges it waits for those in flight (each yielded on its own, which
 * is safe) and continues as new; that drain leaves about P/(2G+P) of the slots idle for a
 * generation of G ranges (P = 8, G = 100: ~4%). Input, output and status hold counts and indexes only.
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
  const offset = input.offset ?? 0;
  const parallelism = Math.max(1, input.parallelism ?? 8);
  let rangeMs = input.rangeMs ?? 0;
  const rangeSize = rangeSizeFor(userCount, parallelism);
  const end = Math.min(userCount, offset + RANGES_PER_GENERATION * rangeSize);
  const status = (phase: string) =>
    context.df.setCustomStatus({ phase, usersDone: totals.users, usersTotal: userCount, items: totals.items, fetched: totals.fetched, fetchedBytes: totals.fetchedBytes, failed: totals.failed });
  const nowMs = () => context.df.currentUtcDateTime.getTime();
  const harvest = (r: RangeInFlight) => {
    if (r.task.isCompleted) totals = addTotals(totals, r.task.result as RunTotals);
    // A range that failed outright (its users could not even be read): counted, the run goes on.
    else totals = { ...totals, users: totals.users + Math.min(rangeSize, end - r.from), failed: totals.failed + 1 };
    const took = nowMs() - r.startedMs;
    rangeMs = rangeMs === 0 ? took : Math.round(rangeMs * 0.8 + took * 0.2);
  };
  const rangeTask = (from: number) =>
    context.df.callSubOrchestrator('backupUserRange', { tenant: input.tenant, runId, from, count: Math.min(rangeSize, end - from), services: input.services } satisfies BackupUserRangeInput, `${runId}:r${from}`);

  status('backing up');
  let inFlight: RangeInFlight[] = [];
  let next = offset;
  while (next < end || inFlight.length > 0) {
    const fresh: Task[] = [];
    while (inFlight.length < parallelism && next < end) {
      const task = rangeTask(next);
      inFlight.push({ from: next, task, startedMs: nowMs() });
      fresh.push(task);
      next += rangeSize;
    }
    if (next >= end) {
      // The generation's last ranges: wait for each on its own (no timer, no re-used task).
      if (fresh.length > 0) yield context.df.Task.any(fresh);
      for (const r of inFlight) {
        try {
          yield r.task;
        } catch {
          // recorded by harvest
        }
        harvest(r);
        status('backing up');
      }
      inFlight = [];
      break;
    }
    // Until a range has finished, the oldest one's age is a lower bound of a range's duration: polls
    // then grow by 1/8 each (a few dozen before a ten-minute range ends, not one every 2 s).
    const estimateMs = rangeMs > 0 ? rangeMs : Math.max(0, nowMs() - Math.min(...inFlight.map((r) => r.startedMs)));
    const pollMs = Math.min(POLL_MAX_MS, Math.max(rangeMs > 0 ? POLL_MIN_MS : POLL_FIRST_MS, Math.round(estimateMs / 8)));
    const timer = context.df.createTimer(new Date(nowMs() + pollMs));
    const woke = yield fresh.length > 0 ? context.df.Task.any([...fresh, timer]) : timer;
    if (woke !== timer && !timer.isCompleted) timer.cancel();
    const still: RangeInFlight[] = [];
    for (const r of inFlight) {
      if (r.task.isCompleted || r.task.isFaulted) harvest(r);
      else still.push(r);
    }
    inFlight = still;
    status('backing up');
  }
  if (end < userCount) {
    context.df.continueAsNew({ ...input, runId, userCount, offset: end, totals, rangeMs } satisfies BackupTenantInput);
    return undefined;
  }
  const { status: runStatus } = (yield context.df.callActivityWithRetry('finishBackupRun', RETRY, { tenant: input.tenant, runId, totals })) as { status: string };
  status('done');
  return { runId, tenant: input.tenant, status: runStatus, totals };
};
df.app.orchestration('backupTenant', backupTenant);

/**
 * backupUserRange: consecutive roster indexes, one user after another; returns their totals (counts
 * only). The unchanged (user, service) outcomes, which their units did not record, are recorded at
 * the end in one batch row (one table write per range instead of one per unit); a replay after a
 * crash rebuilds the same list from history.
 */
const backupUserRange: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as BackupUserRangeInput;
  let totals = emptyTotals();
  const unchanged: RecordUnchangedInput['entries'] = [];
  for (let index = input.from; index < input.from + input.count; index++) {
    try {
      const outcomes = (yield context.df.callSubOrchestrator('backupUser', { tenant: input.tenant, runId: input.runId, index, services: input.services } satisfies BackupUserInput, `${input.runId}:u${index}`)) as ServiceOutcome[];
      for (const o of outcomes) {
        totals = addOutcome(totals, o);
        if (recordedInBatch(o)) unchanged.push({ index, service: o.service, snapshot: o.snapshot, items: o.items });
      }
    } catch {
      // This user's services could not even be listed (retries exhausted): counted, the range goes on.
      totals = { ...totals, failed: totals.failed + 1 };
    }
    totals = { ...totals, users: totals.users + 1 };
  }
  if (unchanged.length > 0) {
    try {
      yield context.df.callActivityWithRetry('recordUnchangedOutcomes', RETRY, { tenant: input.tenant, runId: input.runId, from: input.from, entries: unchanged } satisfies RecordUnchangedInput);
    } catch {
      // Retries exhausted: the backups stand, their report lines are missing; counted as a failure.
      totals = { ...totals, failed: totals.failed + 1 };
    }
  }
  return totals;
};
df.app.orchestration('backupUserRange', backupUserRange);

/**
 * backupUser: the user's services in lanes that run side by side: Exchange (mail, calendar,
 * contacts in order: they share the mailbox's request budget) and files (OneDrive, its own budget).
 * Two lanes run as two sub-orchestrations started together; one lane runs here directly.
 */
const backupUser: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as BackupUserInput;
  const services = (yield context.df.callActivityWithRetry('userServices', RETRY, { tenant: input.tenant, runId: input.runId, index: input.index, services: input.services })) as Service[];
  const lanes = lanesOf(services);
  if (lanes.length <= 1) return yield* backupLane(context, { tenant: input.tenant, runId: input.runId, index: input.index, services: lanes[0] ?? [] });
  const tasks = lanes.map((lane, i) =>
    context.df.callSubOrchestrator('backupUserLane', { tenant: input.tenant, runId: input.runId, index: input.index, services: lane } satisfies BackupLaneInput, `${input.runId}:u${input.index}:l${i}`),
  );
  try {
    yield context.df.Task.all(tasks);
  } catch {
    // A lane failed outright (the lanes catch their own failures, so this is the runtime's): the others still count.
  }
  const byService = new Map<Service, ServiceOutcome>();
  lanes.forEach((lane, i) => {
    const t = tasks[i]!;
    const outcomes = t.isCompleted ? (t.result as ServiceOutcome[]) : lane.map((service) => failedOutcome(service, undefined));
    for (const o of outcomes) byService.set(o.service, o);
  });
  return services.flatMap((s) => byService.get(s) ?? []);
};
df.app.orchestration('backupUser', backupUser);

const failedOutcome = (service: Service, total: ServiceOutcome | undefined): ServiceOutcome => ({
  service,
  status: 'failed',
  snapshot: total?.snapshot ?? 0,
  items: total?.items ?? 0,
  fetched: total?.fetched ?? 0,
  fetchedBytes: total?.fetchedBytes ?? 0,
  removed: total?.removed ?? 0,
  failed: (total?.failed ?? 0) + 1,
});

/** One lane: its services one after another, each in work units (a unit commits a snapshot and says whether more remains). */
function* backupLane(context: OrchestrationContext, input: BackupLaneInput): Generator<Task, ServiceOutcome[], unknown> {
  const outcomes: ServiceOutcome[] = [];
  for (const service of input.services) {
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
      outcomes.push(failedOutcome(service, total));
    }
  }
  return outcomes;
}

const backupUserLane: OrchestrationHandler = function* (context: OrchestrationContext) {
  return yield* backupLane(context, context.df.getInput() as BackupLaneInput);
};
df.app.orchestration('backupUserLane', backupUserLane);
