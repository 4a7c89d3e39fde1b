import * as df from 'durable-functions';
import type { InvocationContext } from '@azure/functions';
import type { DurableOrchestrationStatus } from 'durable-functions';
import { randomUUID } from 'node:crypto';
import type { PrivateKey } from '../../shared/crypto';
import { BackupError } from '../../shared/errors';
import type { Service } from '../../shared/m365';
import { endRestoreSession } from '../../shared/repo';
import { redactSecrets } from '../../shared/redact';
import { beginM365Restore, m365RestoreReport } from '../../shared/restore/m365/write/m365Job';
import type { M365RestoreRequest } from '../../shared/restore/m365/write/engine';
import type { ConflictMode } from '../../shared/restore/m365/write/serviceWriter';
import { checkSelectedItems } from '../../shared/restore/selectedItems';
import { restoreGraphOf } from '../restoreFunctions';
import { appServices } from '../runtime';
import type { M365RestoreInput } from '../contracts';

export type Destination = { kind: 'folder' } | { kind: 'in-place' } | { kind: 'user'; user: string };

/** The "destination" field: {"kind":"folder"} (default), {"kind":"in-place"}, {"kind":"user","user":"<upn>"}. */
export function parseDestination(v: unknown): Destination {
  if (v === undefined || v === null) return { kind: 'folder' };
  const d = v as { kind?: unknown; user?: unknown };
  if (typeof v !== 'object' || Array.isArray(v) || !['folder', 'in-place', 'user'].includes(String(d.kind)) || Object.keys(v).some((k) => k !== 'kind' && k !== 'user'))
    throw new BackupError('USAGE', '"destination" must be {"kind":"folder"}, {"kind":"in-place"} or {"kind":"user","user":"<upn>"}.');
  if (d.kind === 'user') {
    if (typeof d.user !== 'string' || d.user.trim() === '') throw new BackupError('USAGE', 'A destination of kind "user" names the user: {"kind":"user","user":"<upn>"}.');
    return { kind: 'user', user: d.user.trim() };
  }
  if (d.user !== undefined) throw new BackupError('USAGE', `A destination of kind "${String(d.kind)}" takes no "user".`);
  return { kind: d.kind as 'folder' | 'in-place' };
}

/**
 * Starts a restore back into Microsoft 365 with an opened key (POST /api/restores after the
 * password; a console browse session with its key): every check is made by beginM365Restore before
 * anything is written, then `restoreM365` runs with a Key Vault-wrapped session. Returns the id.
 */
export async function startM365Restore(
  context: InvocationContext,
  tenant: string,
  key: PrivateKey,
  o: { services: Service[]; user?: string; site?: string; at?: Date; destination: Exclude<Destination, { kind: 'folder' }>; conflict: ConflictMode; path?: string; items?: string[] },
): Promise<string> {
  const { repo, conn } = await restoreGraphOf(tenant);
  const name = (await appServices().tenant(tenant)).record.name;
  const request: M365RestoreRequest = { tenantName: name, services: o.services, ...(o.user ? { user: o.user } : {}), ...(o.site ? { scopes: { site: o.site } } : {}), ...(o.at ? { pointInTime: o.at } : {}), destination: o.destination, conflict: o.conflict, ...(o.path !== undefined ? { path: o.path } : {}) };
  if (o.items && o.path !== undefined) throw new BackupError('USAGE', 'Give "items" or "path", not both.');
  if (o.items) await checkSelectedItems(repo, key, request, o.items);
  const { sessionId } = await beginM365Restore(repo, key, conn, request);
  try {
    const instanceId = `restore-${name}-${randomUUID().slice(0, 8)}`;
    const input: M365RestoreInput & { pollSeconds: number } = {
      tenant: name,
      sessionId,
      services: o.services,
      ...(o.user ? { user: o.user } : {}),
      ...(o.site ? { site: o.site } : {}),
      ...(o.at ? { at: o.at.toISOString() } : {}),
      destination: o.destination.kind,
      ...(o.destination.kind === 'user' ? { targetUser: o.destination.user } : {}),
      conflict: o.conflict,
      ...(o.path !== undefined ? { path: o.path } : {}),
      ...(o.items ? { items: o.items } : {}),
      pollSeconds: appServices().settings.restorePollSeconds,
      parallelism: appServices().settings.restoreParallelism,
    };
    await df.getClient(context).startNew('restoreM365', { instanceId, input });
    return instanceId;
  } catch (e) {
    // Nothing was started: the session must not outlive the request.
    await endRestoreSession(repo, sessionId).catch(() => undefined);
    throw e;
  }
}

/** What GET answers for a restore into Microsoft 365: counts, per user x service parts, failures with reasons. */
export async function m365RestoreStatus(id: string, into: DurableOrchestrationStatus): Promise<Record<string, unknown>> {
  const input = into.input as M365RestoreInput;
  const progress = (into.customStatus ?? {}) as { counts?: Record<string, number> };
  const report = await m365RestoreReport((await appServices().tenant(input.tenant)).repo, id);
  const body: Record<string, unknown> = {
    id,
    runtimeStatus: into.runtimeStatus,
    destination: input.destination === 'user' ? { kind: 'user', user: input.targetUser } : { kind: 'in-place' },
    ...(input.site ? { site: input.site } : {}),
    conflict: input.conflict,
    progress: into.customStatus,
    counts: progress.counts ?? { restored: 0, skipped: 0, renamed: 0, failed: 0 },
    parts: report.parts,
    failures: report.failures,
    createdTime: into.createdTime,
    lastUpdatedTime: into.lastUpdatedTime,
  };
  if (into.runtimeStatus === 'Failed') body.error = typeof into.output === 'string' ? redactSecrets(into.output.split('\n')[0]!) : 'The restore failed.';
  return body;
}
