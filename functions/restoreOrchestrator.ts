import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import type { ArchiveState } from '../shared/repo';
import type { M365RestoreInput, M365UnitInput, M365UnitOutput, RestoreInput, RestoreOutput, RestorePartCounts, RestoreStepInput as StepInput } from './contracts';

const RETRY = new df.RetryOptions(5_000, 3);
/** Polls before giving up on rehydration (Standard priority can take up to 15 hours). */
const MAX_POLLS = 200;
/** Users whose part of the zip is written at once (activities; the Function App scales them out). */
export const RESTORE_PART_PARALLELISM = 4;
/** Poll interval bounds of the part window (see below). */
const PART_POLL_MIN_MS = 1_000;
const PART_POLL_MAX_MS = 30_000;

/**
 * restore: plan (stored once) -> rehydrate archived packs -> poll with durable timers until readable
 * -> write the zip, one part per user in a sliding window of activities (each gets the restore id,
 * the session id and its part number, never the plan), then join the parts -> end the session (and plan) -> "ready" until the link expires (durable timer)
 * -> delete the zip. The download link (a SAS ending at the expiry) is made by GET
 * /api/restores/{id} on request, so no credential is ever in the orchestration's state.
 */
const restore: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as RestoreInput & { pollSeconds: number };
  const step: StepInput = { tenant: input.tenant, restoreId: context.df.instanceId, sessionId: input.sessionId };
  let out: RestoreOutput;
  try {
    context.df.setCustomStatus({ phase: 'planning' });
    const planned = (yield context.df.callActivityWithRetry('planRestore', RETRY, { ...input, ...step })) as { packs: number; files: number; parts?: number };
    let state = (yield context.df.callActivityWithRetry('countArchivedPacks', RETRY, { ...step, poll: 0 })) as ArchiveState;
    if (state.archived > 0) {
      yield context.df.callActivityWithRetry('rehydratePacks', RETRY, step);
      for (let poll = 1; state.archived > 0; poll++) {
        if (poll > MAX_POLLS) throw new Error(`${state.archived} pack(s) are still archived after ${MAX_POLLS} polls.`);
        context.df.setCustomStatus({ phase: 'rehydrating', packs: state.packs, archived: state.archived, poll });
        yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + input.pollSeconds * 1000));
        state = (yield context.df.callActivityWithRetry('countArchivedPacks', RETRY, { ...step, poll })) as ArchiveState;
      }
    }
    const parts = planned.parts ?? 0;
    const limit = Math.max(1, input.parallelism ?? RESTORE_PART_PARALLELISM);
    const progress = { phase: 'restoring', packs: state.packs, files: planned.files, parts, partsDone: 0, filesDone: 0, bytesDone: 0, failures: 0 };
    context.df.setCustomStatus(progress);
    // Sliding window: the next user's part starts as soon as one finishes (a big user stalls no one).
    // Each part task goes into exactly one Task.any, the one that starts it, with a poll timer:
    // Azure's extension schedules a task put into a second Task.any again (azure-functions-durable-js#574;
    // see backupTenant). Completions of older parts are recorded on their tasks by replay and
    // picked up when the timer fires; the last parts are each waited for on their own.
    const harvest = (t: Task, part: number) => {
      if (!t.isCompleted) throw new Error(`Part ${part} of the restore (one user) could not be written after its retries.`);
      const c = t.result as RestorePartCounts;
      progress.partsDone++;
      progress.filesDone += c.files;
      progress.bytesDone += c.bytes;
      progress.failures += c.failureCount;
      context.df.setCustomStatus(progress);
    };
    const nowMs = () => context.df.currentUtcDateTime.getTime();
    let running: { part: number; task: Task }[] = [];
    let pollMs = PART_POLL_MIN_MS;
    for (let next = 0; next < parts || running.length > 0; ) {
      const fresh: Task[] = [];
      while (running.length < limit && next < parts) {
        const task = context.df.callActivityWithRetry('writeRestorePart', RETRY, { ...step, part: next });
        running.push({ part: next++, task });
        fresh.push(task);
      }
      if (next >= parts) {
        if (fresh.length > 0) yield context.df.Task.any(fresh);
        for (const r of running) {
          try {
            yield r.task;
          } catch {
            // reported by harvest
          }
          harvest(r.task, r.part);
        }
        running = [];
        break;
      }
      const timer = context.df.createTimer(new Date(nowMs() + pollMs));
      const woke = yield fresh.length > 0 ? context.df.Task.any([...fresh, timer]) : timer;
      if (woke !== timer && !timer.isCompleted) timer.cancel();
      const still: typeof running = [];
      for (const r of running) {
        if (r.task.isCompleted || r.task.isFaulted) harvest(r.task, r.part);
        else still.push(r);
      }
      // Nothing finished: poll less often (up to PART_POLL_MAX_MS), so a long part costs few timers.
      pollMs = still.length < running.length ? PART_POLL_MIN_MS : Math.min(PART_POLL_MAX_MS, pollMs * 2);
      running = still;
    }
    out = (yield context.df.callActivityWithRetry('finishRestoreZip', RETRY, step)) as RestoreOutput;
  } finally {
    // The session and the plan end with the restore, whatever happened.
    yield context.df.callActivityWithRetry('endRestoreSession', RETRY, step);
  }
  context.df.setCustomStatus({ phase: 'ready', files: out.files, bytes: out.bytes, expires: out.expires });
  yield context.df.createTimer(new Date(out.expires));
  yield context.df.callActivityWithRetry('expireRestoreZip', RETRY, { tenant: input.tenant, restoreId: step.restoreId });
  context.df.setCustomStatus({ phase: 'expired', files: out.files, bytes: out.bytes, expires: out.expires });
  return out;
};
df.app.orchestration('restore', restore);

/** Parts (user x service) of a restore into Microsoft 365 written at once. */
export const M365_RESTORE_PARALLELISM = 4;

/**
 * restoreM365: plan once (stored sealed) -> rehydrate archived packs (as the zip restore) -> work
 * units: a window of parts (user x service), each part's units one after another (a unit writes at
 * most 100 items, records the restore map, returns counts), the next unit of a part or the next part
 * scheduled as each round ends -> end the session (and plan). A retried unit or a replayed
 * orchestration creates nothing twice (the restore map). The custom status holds counts only
 * (items are personal data): GET /api/restores/{id} adds the per-user report from the repository.
 */
const restoreM365: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as M365RestoreInput & { pollSeconds: number };
  const step: StepInput = { tenant: input.tenant, restoreId: context.df.instanceId, sessionId: input.sessionId };
  const counts = { restored: 0, skipped: 0, renamed: 0, failed: 0 };
  let planned: { packs: number; parts: number; items: number } = { packs: 0, parts: 0, items: 0 };
  let partsDone = 0;
  let partsFailed = 0;
  try {
    context.df.setCustomStatus({ phase: 'planning', destination: input.destination });
    planned = (yield context.df.callActivityWithRetry('planM365Restore', RETRY, { ...input, ...step })) as typeof planned;
    let state = (yield context.df.callActivityWithRetry('countArchivedPacks', RETRY, { ...step, poll: 0 })) as ArchiveState;
    if (state.archived > 0) {
      yield context.df.callActivityWithRetry('rehydratePacks', RETRY, step);
      for (let poll = 1; state.archived > 0; poll++) {
        if (poll > MAX_POLLS) throw new Error(`${state.archived} pack(s) are still archived after ${MAX_POLLS} polls.`);
        context.df.setCustomStatus({ phase: 'rehydrating', destination: input.destination, packs: state.packs, archived: state.archived, poll });
        yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + input.pollSeconds * 1000));
        state = (yield context.df.callActivityWithRetry('countArchivedPacks', RETRY, { ...step, poll })) as ArchiveState;
      }
    }
    const limit = Math.max(1, input.parallelism ?? M365_RESTORE_PARALLELISM);
    const status = () => ({ phase: 'restoring', destination: input.destination, conflict: input.conflict, parts: planned.parts, partsDone, partsFailed, items: planned.items, counts });
    context.df.setCustomStatus(status());
    let running: { part: number; unit: number }[] = [];
    let next = 0;
    while (next < planned.parts || running.length > 0) {
      while (running.length < limit && next < planned.parts) running.push({ part: next++, unit: 0 });
      const tasks = running.map((r) =>
        context.df.callActivityWithRetry('writeM365Unit', RETRY, { ...step, part: r.part, unit: r.unit, conflict: input.conflict, toUser: input.destination === 'user' } satisfies M365UnitInput),
      );
      // Every unit of the round is waited for on its own: a part that fails after its retries is
      // recorded failed (with its reason, in the report) and the other parts go on.
      try {
        yield context.df.Task.all(tasks);
      } catch {
        // the failed ones are recorded below
      }
      const still: typeof running = [];
      for (let i = 0; i < tasks.length; i++) {
        const r = running[i]!;
        let u: M365UnitOutput | undefined;
        let reason = '';
        try {
          u = (yield tasks[i]!) as M365UnitOutput;
        } catch (e) {
          reason = String((e as Error)?.message ?? e).split('\n')[0]!.slice(0, 240) || 'The part could not be written after its retries.';
        }
        if (!u) {
          yield context.df.callActivityWithRetry('recordM365PartFailure', RETRY, { ...step, part: r.part, unit: r.unit, reason });
          counts.failed++;
          partsFailed++;
          partsDone++;
          continue;
        }
        counts.restored += u.restored;
        counts.skipped += u.skipped;
        counts.renamed += u.renamed;
        counts.failed += u.failed;
        if (u.done) partsDone++;
        else still.push({ part: r.part, unit: r.unit + 1 });
      }
      running = still;
      context.df.setCustomStatus(status());
    }
  } finally {
    yield context.df.callActivityWithRetry('endRestoreSession', RETRY, step);
  }
  // The backup's words: `partial` when a part or an item failed (reported with its reason), else `complete`.
  const outcome = partsFailed > 0 || counts.failed > 0 ? 'partial' : 'complete';
  context.df.setCustomStatus({ phase: 'done', status: outcome, destination: input.destination, conflict: input.conflict, parts: planned.parts, partsDone, partsFailed, items: planned.items, counts });
  return { status: outcome, parts: planned.parts, items: planned.items, partsFailed, counts };
};
df.app.orchestration('restoreM365', restoreM365);
