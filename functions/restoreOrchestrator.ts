import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import type { ArchiveState } from '../shared/repo';
import { runTaskWindow } from '../shared/m365/taskWindow';
import { partFailureReason } from '../shared/m365/outcome';
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
    yield* runTaskWindow(context, {
      jobs: Array.from({ length: parts }, (_, i) => i),
      limit,
      start: (part) => context.df.callActivityWithRetry('writeRestorePart', RETRY, { ...step, part }),
      ended: (part, t) => {
        if (!t.isCompleted) throw new Error(`Part ${part} of the restore (one user) could not be written after its retries.`);
        const c = t.result as RestorePartCounts;
        progress.partsDone++;
        progress.filesDone += c.files;
        progress.bytesDone += c.bytes;
        progress.failures += c.failureCount;
        context.df.setCustomStatus(progress);
        return undefined;
      },
      pollMinMs: PART_POLL_MIN_MS,
      pollMaxMs: PART_POLL_MAX_MS,
    });
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
 * units: a sliding window of parts (user x service), each part's units one after another (a unit
 * writes at most 100 items, records the restore map, returns counts), the next unit of a part or the
 * next part started as soon as a unit ends -> end the session (and plan). A retried unit or a replayed
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
    // A sliding window of parts; a part's next unit takes its slot as a unit ends. A part whose
    // unit fails after its retries is recorded failed (its reason in the report) by a job of the
    // window too, and the other parts go on.
    type Job = { part: number; unit: number; failure?: string };
    yield* runTaskWindow<Job, Task>(context, {
      jobs: Array.from({ length: planned.parts }, (_, part) => ({ part, unit: 0 })),
      limit,
      start: (j) =>
        j.failure !== undefined
          ? context.df.callActivityWithRetry('recordM365PartFailure', RETRY, { ...step, part: j.part, unit: j.unit, reason: j.failure })
          : context.df.callActivityWithRetry('writeM365Unit', RETRY, { ...step, part: j.part, unit: j.unit, conflict: input.conflict, toUser: input.destination === 'user' } satisfies M365UnitInput),
      ended: (j, t) => {
        if (j.failure !== undefined) return undefined; // counted when the unit failed; a lost record only shortens the report's list
        if (!t.isCompleted) {
          counts.failed++;
          partsFailed++;
          partsDone++;
          context.df.setCustomStatus(status());
          const reason = partFailureReason(String(t.result instanceof Error ? t.result.message : ((t.result as { message?: string } | undefined)?.message ?? '')));
          return { part: j.part, unit: j.unit, failure: reason || 'The part could not be written after its retries.' };
        }
        const u = t.result as M365UnitOutput;
        counts.restored += u.restored;
        counts.skipped += u.skipped;
        counts.renamed += u.renamed;
        counts.failed += u.failed;
        if (u.done) partsDone++;
        context.df.setCustomStatus(status());
        return u.done ? undefined : { part: j.part, unit: j.unit + 1 };
      },
      pollMinMs: PART_POLL_MIN_MS,
      pollMaxMs: PART_POLL_MAX_MS,
    });
  } finally {
    yield context.df.callActivityWithRetry('endRestoreSession', RETRY, step);
  }
  // The backup's words: `partial` when a part or an item failed (reported with its reason), else `complete`.
  const outcome = partsFailed > 0 || counts.failed > 0 ? 'partial' : 'complete';
  context.df.setCustomStatus({ phase: 'done', status: outcome, destination: input.destination, conflict: input.conflict, parts: planned.parts, partsDone, partsFailed, items: planned.items, counts });
  return { status: outcome, parts: planned.parts, items: planned.items, partsFailed, counts };
};
df.app.orchestration('restoreM365', restoreM365);
