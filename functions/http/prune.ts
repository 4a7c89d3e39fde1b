import * as df from 'durable-functions';
import { randomUUID } from 'node:crypto';
import { BackupError } from '../../shared/errors';
import { SERVICES } from '../../shared/m365';
import { createRestoreSession, endRestoreSession, Lease, PRUNE_LEASE, refuseWhileRead } from '../../shared/repo';
import { withPasswordThrottle } from '../../shared/repo/passwordThrottle';
import { tenantReport } from '../../shared/retention';
import { appServices } from '../runtime';
import type { PruneTenantInput } from '../contracts';
import { checkQuery, errorResponse, instanceOf, jsonBody, jsonEndpoint, optionalBoolean, optionalString, requiredString } from './respond';

/**
 * POST /api/prune {tenant, dryRun?, deleteEarly?, password?}: forget by the tenant's stored retention
 * policy, then prune (docs/retention.md). Refused with 409 LOCKED while a prune of the tenant holds
 * its lease, or (not a dry run) while a restore or verify reads its repository. With the password, prune also repacks partly used packs: the private key goes into a
 * restore session (Key Vault-wrapped row) whose id alone enters Durable history, as for a restore.
 */
jsonEndpoint('startPrune', { route: 'prune', methods: ['POST'], durableClient: true, access: ['Backup.Admin'] }, async (req, context) => {
  const body = await jsonBody(req, ['tenant', 'dryRun', 'deleteEarly', 'password']);
  const tenant = requiredString(body, 'tenant');
  const dryRun = optionalBoolean(body, 'dryRun');
  const deleteEarly = optionalBoolean(body, 'deleteEarly');
  const password = optionalString(body, 'password');
  const t = await appServices().tenant(tenant);
  const holder = await Lease.holder(t.repo, PRUNE_LEASE);
  if (holder && holder.expires > Date.now()) throw new BackupError('LOCKED', `A prune of tenant "${t.record.name}" is running (since ${holder.acquired}); try again when it has finished.`);
  // Checked again by prune itself after it takes its lease (the exclusion); here so nothing starts in vain.
  if (!dryRun) await refuseWhileRead(t.repo);
  const instanceId = `prune-${t.record.name}-${randomUUID().slice(0, 8)}`;
  const sessionId = password && !dryRun ? await createRestoreSession(t.repo, await withPasswordThrottle(t.repo, () => t.repo.unlock(password))) : undefined;
  const input: PruneTenantInput = { tenant: t.record.name, dryRun, earlyDeletion: deleteEarly ? 'pay' : 'defer', ...(sessionId ? { sessionId } : {}) };
  try {
    await df.getClient(context).startNew('pruneTenant', { instanceId, input });
  } catch (e) {
    if (sessionId) await endRestoreSession(t.repo, sessionId).catch(() => undefined); // nothing was started
    throw e;
  }
  const base = new URL(req.url).origin;
  return { status: 202, headers: { Location: `${base}/api/prune/${instanceId}` }, jsonBody: { id: instanceId, statusUri: `${base}/api/prune/${instanceId}` } };
});

/** GET /api/prune/{id}: phase and counts while running; at the end the forget totals and prune's counts. */
jsonEndpoint('getPrune', { route: 'prune/{id}', methods: ['GET'], durableClient: true, access: ['Backup.Operator'] }, async (req, context) => {
  const id = req.params.id ?? '';
  const status = await instanceOf(context, id, 'pruneTenant');
  if (!status) return errorResponse(404, 'NOT_FOUND', `No prune "${id}".`);
  const input = status.input as PruneTenantInput | undefined;
  return {
    status: 200,
    jsonBody: { id, tenant: input?.tenant, dryRun: input?.dryRun, runtimeStatus: status.runtimeStatus, createdTime: status.createdTime, lastUpdatedTime: status.lastUpdatedTime, progress: status.customStatus, output: status.output },
  };
});

/** GET /api/report?tenant=: storage per tier and immutable generation, garbage, estimated monthly cost, per service. */
jsonEndpoint('getReport', { route: 'report', methods: ['GET'], access: ['Backup.Operator'] }, async (req) => {
  checkQuery(req, ['tenant']);
  const tenant = req.query.get('tenant');
  if (!tenant) throw new BackupError('USAGE', 'Give the tenant: GET /api/report?tenant=<name>.');
  const t = await appServices().tenant(tenant);
  return { status: 200, jsonBody: await tenantReport(t.repo, t.record.name, SERVICES, { prices: appServices().settings.storagePrices }) };
});
