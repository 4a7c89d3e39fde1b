import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { Service } from '../shared/graph';
import type { ArchiveState } from '../shared/repo';
import {
  sweepRestoreJobs,
  endRestoreJob,
  expireRestoreJob,
  planRestoreJob,
  rehydrateRestoreJob,
  restoreJobArchiveState,
  writeRestoreJobZip,
  type RestoreJobRef,
} from '../shared/restore/m365/restoreJob';
import { appServices } from './runtime';

/** The restore's input: names, the restore's selection and a session id (the key is in the Key Vault-wrapped session row). */
export interface RestoreInput {
  tenant: string;
  sessionId: string;
  user?: string;
  services: Service[];
  at?: string;
}

/** The orchestration's output: counts only (failure paths stay sealed beside the zip). */
export interface RestoreOutput {
  files: number;
  bytes: number;
  zipBytes: number;
  failureCount: number;
  expires: string;
}

type StepInput = { tenant: string } & RestoreJobRef;

const RETRY = new df.RetryOptions(5_000, 3);
/** Polls before giving up on rehydration (Standard priority can take up to 15 hours). */
const MAX_POLLS = 200;

const repoOf = async (tenant: string) => (await appServices().tenant(tenant)).repo;
const ref = (i: StepInput): RestoreJobRef => ({ restoreId: i.restoreId, sessionId: i.sessionId });

/** Plans the restore once (item versions -> paths, chunks, packs) and stores the plan sealed. */
df.app.activity('planRestore', {
  handler: async (input: StepInput & RestoreInput): Promise<{ packs: number; files: number }> =>
    planRestoreJob(await repoOf(input.tenant), ref(input), { tenantName: input.tenant, services: input.services, user: input.user, pointInTime: input.at ? new Date(input.at) : undefined }),
});

/** Packs of the plan that are not readable yet (in Archive, or rehydrating). */
df.app.activity('countArchivedPacks', {
  handler: async (input: StepInput & { poll: number }): Promise<ArchiveState> => {
    return restoreJobArchiveState(await repoOf(input.tenant), ref(input));
  },
});

/** Starts rehydration (Archive -> Cool) of the plan's archived packs, with the configured priority. */
df.app.activity('rehydratePacks', {
  handler: async (input: StepInput): Promise<{ requested: number }> => rehydrateRestoreJob(await repoOf(input.tenant), ref(input), appServices().settings.rehydratePriority),
});

/** Writes the zip into the restore container; its link ends RESTORE_LINK_MINUTES from now. */
df.app.activity('writeRestoreZip', {
  handler: async (input: StepInput): Promise<RestoreOutput> => writeRestoreJobZip(await repoOf(input.tenant), ref(input), appServices().settings.restoreLinkMinutes),
});

/** Ends the session and deletes the plan. */
df.app.activity('endRestoreSession', {
  handler: async (input: StepInput): Promise<null> => {
    await endRestoreJob(await repoOf(input.tenant), ref(input));
    return null;
  },
});

/** Deletes the zip (its link has expired). */
df.app.activity('expireRestoreZip', {
  handler: async (input: { tenant: string; restoreId: string }): Promise<null> => {
    await expireRestoreJob(await repoOf(input.tenant), input.restoreId);
    return null;
  },
});

/**
 * restore: plan (stored once) -> rehydrate archived packs -> poll with durable timers until readable
 * -> write the zip -> end the session (and plan) -> "ready" until the link expires (durable timer)
 * -> delete the zip. The download link (a SAS ending at the expiry) is made by GET
 * /api/restores/{id} on request, so no credential is ever in the orchestration's state.
 */
const restore: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as RestoreInput & { pollSeconds: number };
  const step: StepInput = { tenant: input.tenant, restoreId: context.df.instanceId, sessionId: input.sessionId };
  let out: RestoreOutput;
  try {
    context.df.setCustomStatus({ phase: 'planning' });
    const planned = (yield context.df.callActivityWithRetry('planRestore', RETRY, { ...input, ...step })) as { packs: number; files: number };
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
    context.df.setCustomStatus({ phase: 'restoring', packs: state.packs, files: planned.files });
    out = (yield context.df.callActivityWithRetry('writeRestoreZip', RETRY, step)) as RestoreOutput;
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

/**
 * Hourly: deletes what restores that could not end themselves left behind (a terminated or crashed
 * orchestration): sessions, plans and zips whose time is up. The lifecycle rule is the last backstop.
 */
app.timer('sweepRestores', {
  schedule: '0 17 * * * *',
  handler: async (_timer: unknown, context: InvocationContext) => {
    for (const t of await (await appServices().tenants()).list()) {
      const swept = await sweepRestoreJobs((await appServices().tenant(t.name)).repo);
      if (swept.sessions + swept.plans + swept.zips > 0) context.log(`restore area of ${t.name}: swept ${swept.sessions} session(s), ${swept.plans} plan(s), ${swept.zips} zip(s)`);
    }
  },
});
