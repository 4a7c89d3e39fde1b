import * as df from 'durable-functions';
import { randomUUID } from 'node:crypto';
import { BackupError } from '../../shared/errors';
import { SERVICES } from '../../shared/m365';
import { Lease, PRUNE_LEASE } from '../../shared/repo';
import { tenantReport } from '../../shared/retention';
import { appServices } from '../runtime';
import type { PruneTenantInput } from '../contracts';
import { checkQuery, errorResponse, instanceOf, jsonBody, jsonEndpoint, optionalBoolean, requiredString } from './respond';

/**
 * POST /api/prune {tenant, dryRun?, deleteEarly?}: forget by the tenant's stored retention policy,
 * then prune (docs/retention.md). Refused with 409 LOCKED while a prune of the tenant holds its lease.
 */
jsonEndpoint('startPrune', { route: 'prune', methods: ['POST'], durableClient: true, access: ['Backup.Admin'] }, async (req, context) => {
  const body = await jsonBody(req, ['tenant', 'dryRun', 'deleteEarly']);
  const tenant = requiredString(body, 'tenant');
  const dryRun = optionalBoolean(body, 'dryRun');
  const deleteEarly = optionalBoolean(body, 'deleteEarly');
  const t = await appServices().tenant(tenant);
  const holder = await Lease.holder(t.repo, PRUNE_LEASE);
  if (holder && holder.expires > Date.now()) throw new BackupError('LOCKED', `A prune of tenant "${t.record.name}" is running (since ${holder.acquired}); try again when it has finished.`);
  const instanceId = `prune-${t.record.name}-${randomUUID().slice(0, 8)}`;
  const input: PruneTenantInput = { tenant: t.record.name, dryRun, earlyDeletion: deleteEarly ? 'pay' : 'defer' };
  await df.getClient(context).startNew('pruneTenant', { instanceId, input });
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
