import * as df from 'durable-functions';
import { randomUUID } from 'node:crypto';
import { BackupError } from '../../shared/errors';
import { backupServicesOf, SERVICES, servicesNamed, type Service } from '../../shared/m365';
import { readRunReportPage, readRunSummary } from '../../shared/backup/m365/runRecords';
import { validateUserRef } from '../../shared/tenants/names';
import { appServices } from '../runtime';
import type { BackupTenantInput } from '../contracts';
import { checkQuery, errorResponse, instanceOf, jsonBody, optionalString, jsonEndpoint } from './respond';
import { limitQuery } from './snapshots';

export function parseServices(v: unknown): Service[] {
  if (v === undefined || v === null) return [...SERVICES];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) throw new BackupError('USAGE', `"services" must be a list of ${SERVICES.join(', ')}.`);
  return [...new Set((list as unknown[]).flatMap((s) => servicesNamed(s)))];
}

/** The optional "user" field: a UPN or an object id. */
export function optionalUser(body: Record<string, unknown>): string | undefined {
  const user = optionalString(body, 'user');
  return user === undefined ? undefined : validateUserRef(user);
}

/** POST /api/backups {tenant?, user?, services?}: starts an on-demand backup of one tenant, or of all. */
jsonEndpoint('startBackup', { route: 'backups', methods: ['POST'], durableClient: true, access: ['Backup.Operator'] }, async (req, context) => {
    const body = await jsonBody(req, ['tenant', 'user', 'services']);
    const tenant = optionalString(body, 'tenant');
    const user = optionalUser(body);
    // Absent: each tenant's default (every service but chats, unless the tenant's chats setting is on).
    const services = body.services === undefined || body.services === null ? undefined : parseServices(body.services);
    if (user && !tenant) throw new BackupError('USAGE', '"user" needs "tenant".');
    const registry = await appServices().tenants();
    const tenants = tenant ? [await registry.get(tenant)] : await registry.list();
    if (tenants.length === 0) return errorResponse(404, 'NOT_FOUND', 'No tenant is registered.');
    const client = df.getClient(context);
    const started: { tenant: string; id: string }[] = [];
    for (const record of tenants) {
      const t = record.name;
      const id = `manual-${t}-${randomUUID().slice(0, 8)}`;
      const input: BackupTenantInput = { tenant: t, services: backupServicesOf(record, services), ...(user ? { user } : {}), parallelism: appServices().settings.userParallelism };
      await client.startNew('backupTenant', { instanceId: id, input });
      started.push({ tenant: t, id });
    }
    const base = new URL(req.url).origin;
    return { status: 202, jsonBody: { backups: started.map((s) => ({ ...s, statusUri: `${base}/api/backups/${s.id}` })) }, headers: { Location: `${base}/api/backups/${started[0]!.id}` } };
});

/**
 * GET /api/backups/{id}?cursor=&limit=: the run's status, progress and (when done) its summary and
 * a page of its per-user, per-service report (`reportNext`: the cursor of the next page).
 */
jsonEndpoint('getBackup', { route: 'backups/{id}', methods: ['GET'], durableClient: true, access: ['Backup.Operator'] }, async (req, context) => {
    checkQuery(req, ['cursor', 'limit']);
    const id = req.params.id ?? '';
    const limit = limitQuery(req.query.get('limit'));
    const status = await instanceOf(context, id, 'backupTenant');
    if (!status) return errorResponse(404, 'NOT_FOUND', `No backup run "${id}".`);
    const input = status.input as BackupTenantInput | undefined;
    let report: unknown;
    let reportNext: string | undefined;
    let summary: unknown;
    if (status.runtimeStatus === 'Completed' && input?.tenant) {
      const repo = (await appServices().tenant(input.tenant)).repo;
      const page = await readRunReportPage(repo, id, { cursor: req.query.get('cursor') ?? undefined, limit });
      report = page.lines;
      reportNext = page.next;
      summary = await readRunSummary(repo, id);
    }
    return {
      status: 200,
      jsonBody: { id, tenant: input?.tenant, runtimeStatus: status.runtimeStatus, createdTime: status.createdTime, lastUpdatedTime: status.lastUpdatedTime, progress: status.customStatus, output: status.output, summary, report, ...(reportNext ? { reportNext } : {}) },
    };
});
