import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Service } from '../shared/graph';
import { packBlobName } from '../shared/repo';
import { packsForRestore, restoreTenant, selectTenantVersions } from '../shared/restore/m365/restoreTenant';
import { endRestoreSession, openRestoreSession } from '../shared/restore/m365/session';
import { zipFolderToBlob } from '../shared/restore/m365/zipToBlob';
import { appServices } from './runtime';

/** The restore's input: names and a session id only (the key is in the Key Vault-wrapped session row). */
export interface RestoreInput {
  tenant: string;
  sessionId: string;
  user?: string;
  services: Service[];
  at?: string;
}

export interface RestoreOutput {
  container: string;
  blob: string;
  files: number;
  bytes: number;
  zipBytes: number;
  failures: { path: string; reason: string }[];
}

const RETRY = new df.RetryOptions(5_000, 3);
/** Polls before giving up on rehydration (Standard priority can take up to 15 hours). */
const MAX_POLLS = 200;

export const restoreContainer = (repository: string) => `${repository}-restores`;

const selection = (i: RestoreInput) => ({ tenantName: i.tenant, services: i.services, user: i.user, pointInTime: i.at ? new Date(i.at) : undefined });

async function packState(input: RestoreInput & { poll?: number }) {
  const t = await appServices().tenant(input.tenant);
  const key = await openRestoreSession(t.repo, input.sessionId);
  const packs = await packsForRestore(t.repo, key, await selectTenantVersions(t.repo, key, selection(input)));
  return { repo: t.repo, packs };
}

/** Packs the restore needs that are not readable yet (in Archive, or rehydrating). */
df.app.activity('countArchivedPacks', {
  handler: async (input: RestoreInput & { poll: number }): Promise<{ packs: number; archived: number }> => {
    const { repo, packs } = await packState(input);
    let archived = 0;
    for (const id of packs) {
      const info = await repo.blobs.stat(repo.layout.packContainer, packBlobName(id));
      if (info && (info.tier === 'Archive' || String(info.archiveStatus ?? '').startsWith('rehydrate-pending'))) archived++;
    }
    return { packs: packs.length, archived };
  },
});

/** Starts rehydration (Archive -> Cool) of the packs the restore needs, with the configured priority. */
df.app.activity('rehydratePacks', {
  handler: async (input: RestoreInput): Promise<{ requested: number }> => {
    const { repo, packs } = await packState(input);
    let requested = 0;
    for (const id of packs) {
      const info = await repo.blobs.stat(repo.layout.packContainer, packBlobName(id));
      if (info?.tier === 'Archive' && !info.archiveStatus) {
        await repo.blobs.setTier(repo.layout.packContainer, packBlobName(id), 'Cool', { rehydratePriority: appServices().settings.rehydratePriority });
        requested++;
      }
    }
    return { requested };
  },
});

/** Restores into a temporary folder and zips it into the restore container. */
df.app.activity('writeRestoreZip', {
  handler: async (input: RestoreInput & { restoreId: string }): Promise<RestoreOutput> => {
    const t = await appServices().tenant(input.tenant);
    const key = await openRestoreSession(t.repo, input.sessionId);
    const dir = await mkdtemp(join(tmpdir(), 'm365-restore-'));
    try {
      const r = await restoreTenant(t.repo, key, { ...selection(input), target: dir });
      const container = restoreContainer(t.repo.layout.name);
      const blob = `${input.restoreId}.zip`;
      const zip = await zipFolderToBlob(t.repo.blobs, container, blob, dir);
      return { container, blob, files: r.files, bytes: r.bytes, zipBytes: zip.bytes, failures: r.failures.slice(0, 100) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});

df.app.activity('endRestoreSession', {
  handler: async (input: { tenant: string; sessionId: string }): Promise<null> => {
    const t = await appServices().tenant(input.tenant);
    await endRestoreSession(t.repo, input.sessionId);
    return null;
  },
});

/**
 * restore: plan -> rehydrate archived packs -> poll with durable timers until readable -> write
 * the zip -> end the session. The download link (a SAS) is made by GET /api/restores/{id} on
 * request, so no credential is ever in the orchestration's output.
 */
const restore: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput() as RestoreInput & { pollSeconds: number };
  const restoreId = context.df.instanceId;
  try {
    context.df.setCustomStatus({ phase: 'planning' });
    let state = (yield context.df.callActivityWithRetry('countArchivedPacks', RETRY, { ...input, poll: 0 })) as { packs: number; archived: number };
    if (state.archived > 0) {
      yield context.df.callActivityWithRetry('rehydratePacks', RETRY, input);
      for (let poll = 1; state.archived > 0; poll++) {
        if (poll > MAX_POLLS) throw new Error(`${state.archived} pack(s) are still archived after ${MAX_POLLS} polls.`);
        context.df.setCustomStatus({ phase: 'rehydrating', packs: state.packs, archived: state.archived, poll });
        yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + input.pollSeconds * 1000));
        state = (yield context.df.callActivityWithRetry('countArchivedPacks', RETRY, { ...input, poll })) as { packs: number; archived: number };
      }
    }
    context.df.setCustomStatus({ phase: 'restoring', packs: state.packs });
    const out = (yield context.df.callActivityWithRetry('writeRestoreZip', RETRY, { ...input, restoreId })) as RestoreOutput;
    context.df.setCustomStatus({ phase: 'done', files: out.files, bytes: out.bytes });
    return out;
  } finally {
    // The session ends with the restore, whatever happened.
    yield context.df.callActivityWithRetry('endRestoreSession', RETRY, { tenant: input.tenant, sessionId: input.sessionId });
  }
};
df.app.orchestration('restore', restore);
