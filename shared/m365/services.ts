import { BackupError } from '../errors';

/** The Microsoft 365 workloads: per user (the first four) and per tenant-level scope (site, group, team: shared/m365/scopes.ts). */
export const SERVICES = ['onedrive', 'mail', 'calendar', 'contacts', 'sharepoint', 'groups', 'teams'] as const;
export type Service = (typeof SERVICES)[number];

export function isService(v: unknown): v is Service {
  return typeof v === 'string' && (SERVICES as readonly string[]).includes(v);
}

/**
 * The services named by one word ("all" = every service when allowed), or a USAGE error that lists
 * the valid names: the one parser behind the CLI's --service and the HTTP API's "services".
 */
export function servicesNamed(word: unknown, options: { allowAll?: boolean } = {}): Service[] {
  const v = typeof word === 'string' ? word.trim().toLowerCase() : word;
  if (options.allowAll && v === 'all') return [...SERVICES];
  if (isService(v)) return [v];
  throw new BackupError('USAGE', `Unknown service "${String(word)}": use ${SERVICES.join(', ')}${options.allowAll ? ' or all' : ''}.`);
}
