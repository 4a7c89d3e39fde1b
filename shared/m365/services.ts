import { BackupError } from '../errors';

/**
 * The Microsoft 365 workloads: per user (onedrive, mail, calendar, contacts, chats) and per
 * tenant-level scope (site, group, team: shared/m365/scopes.ts).
 */
export const SERVICES = ['onedrive', 'mail', 'calendar', 'contacts', 'sharepoint', 'groups', 'teams', 'chats'] as const;
export type Service = (typeof SERVICES)[number];

/**
 * Services a backup runs only when asked: by name (`--service chats`) or by the tenant's setting
 * (`tenant add --chats on`). One-on-one and group chats are read with Chat.Read.All, a protected
 * API: Microsoft must approve the app for it, so a default run must never reach for it.
 */
export const OPT_IN_SERVICES: readonly Service[] = ['chats'];
/** What a backup reads when no service is named, and what "all" names. */
export const DEFAULT_SERVICES: readonly Service[] = SERVICES.filter((s) => !OPT_IN_SERVICES.includes(s));

export function isService(v: unknown): v is Service {
  return typeof v === 'string' && (SERVICES as readonly string[]).includes(v);
}

/**
 * The services named by one word ("all" = every service that is on by default, when allowed; an
 * opt-in service such as chats is never part of "all"), or a USAGE error that lists the valid
 * names: the one parser behind the CLI's --service and the HTTP API's "services".
 */
export function servicesNamed(word: unknown, options: { allowAll?: boolean } = {}): Service[] {
  const v = typeof word === 'string' ? word.trim().toLowerCase() : word;
  if (options.allowAll && v === 'all') return [...DEFAULT_SERVICES];
  if (isService(v)) return [v];
  throw new BackupError('USAGE', `Unknown service "${String(word)}": use ${SERVICES.join(', ')}${options.allowAll ? ' or all' : ''}.`);
}

/** The opt-in services a tenant's setting turns on (the registry's record, shared/tenants). */
export interface TenantServiceSettings {
  chats?: boolean;
}

/**
 * The services of one tenant's backup run: those asked for (an opt-in service named there runs),
 * else the default ones plus the opt-in ones the tenant's settings enable.
 */
export function backupServicesOf(settings: TenantServiceSettings, asked?: readonly Service[]): Service[] {
  if (asked) return [...asked];
  return [...DEFAULT_SERVICES, ...(settings.chats ? (['chats'] as const) : [])];
}

/**
 * Whether a directory entry's probed services offer `service`. Chats are not probed (no cheap
 * check tells who has Teams): every user (not a site, group or team) has them, and Graph's answer for the user's chats decides.
 */
export const entryOffers = (entry: { id: string; services: readonly Service[] }, service: Service) =>
  entry.services.includes(service) || (service === 'chats' && !/^(site|group|team):/.test(entry.id));
