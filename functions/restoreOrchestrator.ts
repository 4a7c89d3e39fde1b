import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import type { ArchiveState } from '../shared/repo';
import type { RestoreInput, RestoreOutput, RestorePartCounts, RestoreStepInput as StepInput } from './contracts';

const RETRY = new df.RetryOptions(5_000, 3);
/** Polls before giving up on rehydration (Standard priority can take up to 15 hours). */
const MAX_POLLS = 200;
/** Users whose part of the zip is written at once (activities; the Function App scales them out). */
export const RESTORE_PART_PARALLELISM = 4;

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
    const running: Task[] = [];
    for (let next = 0; next < parts || running.length > 0; ) {
      while (running.length < limit && next < parts) running.push(context.df.callActivityWithRetry('writeRestorePart', RETRY, { ...step, part: next++ }));
      const done = (yield context.df.Task.any(running)) as Task;
      running.splice(running.indexOf(done), 1);
      const c = done.result as RestorePartCounts;
      progress.partsDone++;
      progress.filesDone += c.files;
      progress.bytesDone += c.bytes;
      progress.failures += c.failureCount;
      context.df.setCustomStatus(progress);
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
