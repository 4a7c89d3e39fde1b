/** The console's only way to the server: the documented JSON API on this origin (docs/openapi.yaml). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function csrfToken(): string {
  const m = /(?:^|;\s*)m365b-csrf=([^;]+)/.exec(document.cookie);
  return m ? m[1]! : '';
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') {
    // Double-submit CSRF token (the server compares it with the cookie it set on GET /api/me).
    headers['X-CSRF-Token'] = csrfToken();
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const text = await res.text();
  let body: unknown = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(res.status, 'INTERNAL', `The server answered ${res.status} with something that is not JSON.`);
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } }).error;
    throw new ApiError(res.status, e?.code ?? 'INTERNAL', e?.message ?? `The server answered ${res.status}.`);
  }
  return body as T;
}

export interface Me {
  name: string;
  upn: string;
  roles: string[];
  via: string;
  selfServiceOnly: boolean;
}

export interface RunSummary {
  id: string;
  tenant: string;
  kind: 'nightly' | 'manual' | 'restore';
  runtimeStatus: string;
  status: string;
  createdTime: string;
  lastUpdatedTime: string;
  progress: { phase?: string; usersDone?: number; usersTotal?: number; items?: number; fetched?: number; fetchedBytes?: number; failed?: number } | null;
  totals: { users?: number; services?: number; items?: number; fetched?: number; fetchedBytes?: number; failed?: number; removed?: number } | null;
}

export interface TenantOverview {
  name: string;
  lastBackup: RunSummary | null;
  running: number;
}

export interface ReportRow {
  userPrincipalName: string;
  service: string;
  status: string;
  items: number;
  fetched: number;
  fetchedBytes: number;
  removed: number;
  failed: number;
  failures: { id: string; reason: string }[];
}

export interface BackupRun {
  id: string;
  tenant: string;
  runtimeStatus: string;
  createdTime: string;
  lastUpdatedTime: string;
  progress: RunSummary['progress'];
  output: { status?: string; reason?: string; totals?: RunSummary['totals'] } | null;
  report?: ReportRow[];
}
