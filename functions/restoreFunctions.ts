import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { ArchiveState } from '../shared/repo';
import {
  sweepRestoreJobs,
  endRestoreJob,
  expireRestoreJob,
  planRestoreJob,
  rehydrateRestoreJob,
  restoreJobArchiveState,
  writeRestoreJobZip,
  writeRestoreJobPart,
  finishRestoreJobZip,
  type RestoreJobRef,
} from '../shared/restore/m365/restoreJob';
import { appServices } from './runtime';
import { redactingErrors } from '../shared/redact';
import type { M365RestoreInput, M365UnitInput, M365UnitOutput, RestoreInput, RestoreOutput, RestorePartCounts, RestoreStepInput as StepInput } from './contracts';
import { planM365RestoreJob, recordM365PartFailure, writeM365RestoreUnit } from '../shared/restore/m365/write/m365Job';
import type { M365RestoreRequest } from '../shared/restore/m365/write/engine';
import { planSelectedM365RestoreJob } from '../shared/restore/selectedItems';


const repoOf = async (tenant: string) => (await appServices().tenant(tenant)).repo;
const ref = (i: StepInput): RestoreJobRef => ({ restoreId: i.restoreId, sessionId: i.sessionId });

/** The Graph connection restores write with: the tenant's restore app registration if it has one. */
export async function restoreGraphOf(tenant: string) {
  const t = await appServices().tenant(tenant);
  return { repo: t.repo, conn: appServices().graph(await (await appServices().tenants()).restoreCredentials(t.record.name), t.repo) };
}

/** The request of a restore into Microsoft 365 as its orchestration input holds it. */
export function m365RequestOf(input: M365RestoreInput): M365RestoreRequest {
  return {
    tenantName: input.tenant,
    services: input.services,
    ...(input.user ? { user: input.user } : {}),
    ...(input.site ? { scopes: { site: input.site } } : {}),
    ...(input.at ? { pointInTime: new Date(input.at) } : {}),
    destination: input.destination === 'user' ? { kind: 'user', user: input.targetUser ?? '' } : { kind: 'in-place' },
    conflict: input.conflict,
    ...(input.path !== undefined ? { path: input.path } : {}),
  };
}

/** Plans a restore into Microsoft 365 once and stores the plan sealed (and the parts' names for the report). */
df.app.activity('planM365Restore', {
  handler: redactingErrors(async (input: StepInput & M365RestoreInput): Promise<{ packs: number; parts: number; items: number }> => {
    const { repo, conn } = await restoreGraphOf(input.tenant);
    return input.items ? planSelectedM365RestoreJob(repo, conn, ref(input), m365RequestOf(input), input.items) : planM365RestoreJob(repo, conn, ref(input), m365RequestOf(input));
  }),
});

/** One work unit of a restore into Microsoft 365: at most 100 items of one user x service. */
df.app.activity('writeM365Unit', {
  handler: redactingErrors(async (input: M365UnitInput): Promise<M365UnitOutput> => {
    const { repo, conn } = await restoreGraphOf(input.tenant);
    return writeM365RestoreUnit(repo, conn, ref(input), { part: input.part, unit: input.unit, conflict: input.conflict, toUser: input.toUser });
  }),
});

/** A part whose unit failed after its retries: recorded failed, with its reason, in the restore's report. */
df.app.activity('recordM365PartFailure', {
  handler: redactingErrors(async (input: StepInput & { part: number; unit: number; reason: string }): Promise<void> => {
    await recordM365PartFailure(await repoOf(input.tenant), ref(input), { part: input.part, unit: input.unit, reason: input.reason });
  }),
});

/** Plans the restore once (item versions -> paths, chunks, packs) and stores the plan sealed. */
df.app.activity('planRestore', {
  handler: redactingErrors(async (input: StepInput & RestoreInput): Promise<{ packs: number; files: number; parts: number }> =>
    planRestoreJob(await repoOf(input.tenant), ref(input), { tenantName: input.tenant, services: input.services, user: input.user, pointInTime: input.at ? new Date(input.at) : undefined, ...(input.items ? { items: input.items } : {}) })),
});

/** Packs of the plan that are not readable yet (in Archive, or rehydrating). */
df.app.activity('countArchivedPacks', {
  handler: redactingErrors(async (input: StepInput & { poll: number }): Promise<ArchiveState> => {
    return restoreJobArchiveState(await repoOf(input.tenant), ref(input));
  }),
});

/** Starts rehydration (Archive -> Cool) of the plan's archived packs, with the configured priority. */
df.app.activity('rehydratePacks', {
  handler: redactingErrors(async (input: StepInput): Promise<{ requested: number }> => rehydrateRestoreJob(await repoOf(input.tenant), ref(input), appServices().settings.rehydratePriority)),
});

/** One user's part of the zip: streamed from the packs into staged blocks of the zip blob. */
df.app.activity('writeRestorePart', {
  handler: redactingErrors(async (input: StepInput & { part: number }): Promise<RestorePartCounts> => writeRestoreJobPart(await repoOf(input.tenant), ref(input), input.part)),
});

/** Joins the parts (central directory, commit); the link ends RESTORE_LINK_MINUTES from now. */
df.app.activity('finishRestoreZip', {
  handler: redactingErrors(async (input: StepInput): Promise<RestoreOutput> => finishRestoreJobZip(await repoOf(input.tenant), ref(input), appServices().settings.restoreLinkMinutes)),
});

/** The whole zip in one activity (orchestrations started before the per-user parts). */
df.app.activity('writeRestoreZip', {
  handler: redactingErrors(async (input: StepInput): Promise<RestoreOutput> => writeRestoreJobZip(await repoOf(input.tenant), ref(input), appServices().settings.restoreLinkMinutes)),
});

/** Ends the session and deletes the plan. */
df.app.activity('endRestoreSession', {
  handler: redactingErrors(async (input: StepInput): Promise<null> => {
    await endRestoreJob(await repoOf(input.tenant), ref(input));
    return null;
  }),
});

/** Deletes the zip (its link has expired). */
df.app.activity('expireRestoreZip', {
  handler: redactingErrors(async (input: { tenant: string; restoreId: string }): Promise<null> => {
    await expireRestoreJob(await repoOf(input.tenant), input.restoreId);
    return null;
  }),
});


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
