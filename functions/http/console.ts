import * as df from 'durable-functions';
import { randomBytes } from 'node:crypto';
import type { DurableOrchestrationStatus } from 'durable-functions';
import { BackupError } from '../../shared/errors';
import { appServices } from '../runtime';
import { CSRF_COOKIE, cookieOf, selfServiceOnly } from './access';
import { checkQuery, jsonEndpoint } from './respond';

/**
 * The console's own reads (docs/openapi.yaml): who is signed in, every tenant with its last run, and
 * a tenant's run history. Runs are the Durable instances the app started (`nightly-<tenant>-<date>`,
 * `manual-<tenant>-…`, `restore-<tenant>-…`): their custom status is the live progress and their
 * output the counts, so listing them reads no personal data. A run's per-user report (with every
 * failed item's reason) is GET /api/backups/{id}.
 */

/** GET /api/me: the signed-in caller and their roles; sets the CSRF cookie the console echoes. */
jsonEndpoint('getMe', { route: 'me', methods: ['GET'], access: 'signed-in' }, async (req, _context, caller) => {
  checkQuery(req, []);
  const headers: Record<string, string> = {};
  let csrf = cookieOf(req, CSRF_COOKIE);
  if (!csrf || csrf.length < 16) {
    csrf = randomBytes(24).toString('base64url');
    // Readable by the page's script (double submit), sent only to this site, only over HTTPS.
    headers['Set-Cookie'] = `${CSRF_COOKIE}=${csrf}; Path=/; SameSite=Strict; Secure`;
  }
  return { status: 200, headers, jsonBody: { name: caller.name, upn: caller.upn, roles: caller.roles, via: caller.via, selfServiceOnly: selfServiceOnly(caller) } };
});

export interface RunSummary {
  id: string;
  tenant: string;
  kind: 'nightly' | 'manual' | 'restore';
  runtimeStatus: string;
  /** The run's own verdict once done (complete, partial, failed, refused), else the progress phase. */
  status: string;
  createdTime: string;
  lastUpdatedTime: string;
  /** Live progress (the orchestration's custom status): phase, users done/total, items, bytes, failures. */
  progress: Record<string, unknown> | null;
  /** Counts of a finished backup (users, items, fetched, fetchedBytes, failed, …). */
  totals: Record<string, unknown> | null;
}

const RUN_ID = /^(nightly|manual|restore)-([a-z][a-z0-9]{1,23})-/;
const RUN_ORCHESTRATORS = ['backupTenant', 'restore'];

export function runSummary(s: DurableOrchestrationStatus): RunSummary | undefined {
  const m = RUN_ID.exec(s.instanceId);
  if (!m || !RUN_ORCHESTRATORS.includes(s.name)) return undefined;
  const output = (s.output && typeof s.output === 'object' ? s.output : {}) as { status?: string; totals?: Record<string, unknown> };
  const progress = s.customStatus && typeof s.customStatus === 'object' ? (s.customStatus as Record<string, unknown>) : null;
  const status = output.status ?? (typeof progress?.phase === 'string' ? progress.phase : String(s.runtimeStatus).toLowerCase());
  const time = (t: unknown) => (t instanceof Date ? t.toISOString() : String(t));
  return { id: s.instanceId, tenant: m[2]!, kind: m[1] as RunSummary['kind'], runtimeStatus: String(s.runtimeStatus), status, createdTime: time(s.createdTime), lastUpdatedTime: time(s.lastUpdatedTime), progress, totals: output.totals ?? null };
}

/** How far back the console lists runs. */
const HISTORY_DAYS = 35;

async function listRuns(context: Parameters<typeof df.getClient>[0], tenant?: string): Promise<RunSummary[]> {
  const from = new Date(Date.now() - HISTORY_DAYS * 86_400_000);
  const all = await df.getClient(context).getStatusBy({ createdTimeFrom: from });
  return all
    .map(runSummary)
    .filter((r): r is RunSummary => !!r && (!tenant || r.tenant === tenant))
    .sort((a, b) => (a.createdTime < b.createdTime ? 1 : a.createdTime > b.createdTime ? -1 : a.id.localeCompare(b.id)));
}

/** GET /api/tenants: every registered tenant with its last backup run and its running runs. */
jsonEndpoint('listTenants', { route: 'tenants', methods: ['GET'], durableClient: true, access: ['Backup.Operator'] }, async (req, context) => {
  checkQuery(req, []);
  const tenants = await (await appServices().tenants()).list();
  const runs = await listRuns(context);
  return {
    status: 200,
    jsonBody: {
      tenants: tenants.map((t) => {
        const mine = runs.filter((r) => r.tenant === t.name);
        const lastBackup = mine.find((r) => r.kind !== 'restore') ?? null;
        return { name: t.name, lastBackup, running: mine.filter((r) => ['Running', 'Pending'].includes(r.runtimeStatus)).length };
      }),
    },
  };
});

/** GET /api/runs?tenant=[&limit=]: the tenant's backups and restores of the last weeks, newest first. */
jsonEndpoint('listRuns', { route: 'runs', methods: ['GET'], durableClient: true, access: ['Backup.Operator'] }, async (req, context) => {
  checkQuery(req, ['tenant', 'limit']);
  const tenant = req.query.get('tenant');
  if (!tenant) throw new BackupError('USAGE', 'The "tenant" query parameter is required.');
  const name = (await appServices().tenant(tenant)).record.name;
  const limitText = req.query.get('limit') ?? '50';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new BackupError('USAGE', `"limit" must be a whole number from 1 to 500, not "${limitText.slice(0, 20)}".`);
  const runs = await listRuns(context, name);
  return { status: 200, jsonBody: { tenant: name, runs: runs.slice(0, limit) } };
});
