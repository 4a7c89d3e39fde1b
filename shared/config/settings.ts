import { homedir } from 'node:os';
import { join } from 'node:path';
import { BackupError } from '../errors';

/**
 * Every setting the product reads from the environment, in one list: the code and the deployment
 * check (infra/) share it. `secret` settings are never logged.
 */
export const SETTING_NAMES = {
  storageConnectionString: 'AZURE_STORAGE_CONNECTION_STRING',
  storageBlobUrl: 'AZURE_STORAGE_BLOB_URL',
  storageTableUrl: 'AZURE_STORAGE_TABLE_URL',
  repository: 'M365_BACKUP_REPOSITORY',
  keyVaultUrl: 'KEY_VAULT_URL',
  keyVaultKeyName: 'KEY_VAULT_KEY_NAME',
  dataDir: 'M365_BACKUP_DATA_DIR',
  password: 'M365_BACKUP_PASSWORD',
  kdfProfile: 'M365_BACKUP_KDF',
  graphBaseUrl: 'GRAPH_BASE_URL',
  authorityHost: 'AZURE_AUTHORITY_HOST',
  mailboxBudget: 'GRAPH_MAILBOX_BUDGET',
  tenantConcurrency: 'GRAPH_TENANT_CONCURRENCY',
  /** A tenant-wide request budget per app, "requests/seconds" (e.g. SharePoint's "1200/60"); empty = none. */
  tenantRate: 'GRAPH_TENANT_RATE',
  /** "on" (default): Graph budgets shared by every process through storage when a repository is at hand; "off": per process. */
  sharedBudgets: 'GRAPH_SHARED_BUDGETS',
  userParallelism: 'BACKUP_USER_PARALLELISM',
  /** NCRONTAB of the nightly backup timer; read by the Functions runtime as %BACKUP_SCHEDULE%. */
  backupSchedule: 'BACKUP_SCHEDULE',
  unitSeconds: 'BACKUP_UNIT_SECONDS',
  /** Days after which a known user's drive and mailbox are probed again (0: every run). */
  directoryProbeDays: 'DIRECTORY_PROBE_DAYS',
  rehydratePriority: 'REHYDRATE_PRIORITY',
  /** Price per GiB-month by tier, "Hot=0.0458,Cool=0.025,Cold=0.0081,Archive=0.0036": the report's and prune's cost figures. */
  storagePrices: 'STORAGE_PRICES',
  /** NCRONTAB of the weekly prune timer; read by the Functions runtime as %PRUNE_SCHEDULE%. */
  pruneSchedule: 'PRUNE_SCHEDULE',
  /** Days every pack, pack index and catalog blob is locked (version-level WORM, in generations); 0 = the app sets no locks. */
  packLockDays: 'PACK_LOCK_DAYS',
  restorePollSeconds: 'RESTORE_POLL_SECONDS',
  /** Parts (user x service) of a restore into Microsoft 365 written at once (default 4). */
  restoreParallelism: 'M365_RESTORE_PARALLELISM',
  restoreLinkMinutes: 'RESTORE_LINK_MINUTES',
  /**
   * Local testing only: wrap blob storage in the Archive-tier emulator (shared/storage/README.md);
   * packs go to Archive when committed and rehydrate after this many seconds.
   */
  emulateArchiveSeconds: 'M365_BACKUP_EMULATE_ARCHIVE',
} as const;

/**
 * STORAGE_PRICES' defaults: roughly Azure's pay-as-you-go prices of a Standard GRS account in a US
 * region, USD per GiB-month, from memory of the published price list (not checked against it from
 * here; set your region's). They only scale cost figures: prune decides by Azure's tier minimums.
 */
export const DEFAULT_STORAGE_PRICES: Readonly<Record<StorageTier, number>> = { Hot: 0.0458, Cool: 0.025, Cold: 0.0081, Archive: 0.0036 };
export type StorageTier = 'Hot' | 'Cool' | 'Cold' | 'Archive';

/** BACKUP_USER_PARALLELISM's default (see Settings.userParallelism for why 8). */
export const DEFAULT_USER_PARALLELISM = 8;

/** Settings only CLI and local runs use; the Function App does not set them (infra/ is checked against the rest). */
export const LOCAL_ONLY_SETTINGS: ReadonlySet<string> = new Set([
  SETTING_NAMES.storageConnectionString,
  SETTING_NAMES.dataDir,
  SETTING_NAMES.password,
  SETTING_NAMES.kdfProfile,
  SETTING_NAMES.emulateArchiveSeconds,
]);

/** A tenant's client secret from a Key Vault reference app setting: M365_TENANT_SECRET_<TENANT NAME IN CAPITALS>. */
export const TENANT_SECRET_PREFIX = 'M365_TENANT_SECRET_';
/** The secret of a tenant's restore-only app registration: M365_TENANT_RESTORE_SECRET_<TENANT NAME IN CAPITALS>. */
export const TENANT_RESTORE_SECRET_PREFIX = 'M365_TENANT_RESTORE_SECRET_';

export const SECRET_SETTINGS: ReadonlySet<string> = new Set([SETTING_NAMES.storageConnectionString, SETTING_NAMES.password]);

export interface Settings {
  storageConnectionString?: string;
  storageBlobUrl?: string;
  storageTableUrl?: string;
  repository: string;
  keyVaultUrl?: string;
  keyVaultKeyName?: string;
  dataDir: string;
  kdfProfile: 'default' | 'test';
  /** Graph endpoint, origin plus version ("https://graph.microsoft.com/v1.0"). */
  graphBaseUrl: string;
  /** Identity platform origin ("https://login.microsoftonline.com"). */
  authorityHost: string;
  /** Outlook per-mailbox limits: concurrency, requests per window. */
  mailboxBudget: { concurrency: number; budget: number; windowMs: number };
  /** Graph requests in flight per tenant, across all users. */
  tenantConcurrency: number;
  /** Tenant-wide request budget per app (every request counts 1); undefined = none. */
  tenantRate?: { budget: number; windowMs: number };
  /** Budgets shared through storage by every process of a tenant (shared/graph/sharedGates.ts). */
  sharedBudgets: boolean;
  /** calendarView window, days back and forward from now. */
  /**
   * Users of one tenant backed up at once (the sliding window of the Function App's run and of the
   * CLI's). Default 8, sized for a Flex Consumption app: each user runs up to two work units at once
   * (the Exchange lane and the OneDrive lane), so 8 users keep ~16 units busy, which is the default
   * GRAPH_TENANT_CONCURRENCY (16 requests in flight per tenant) with each unit's requests mostly
   * sequential; host.json's maxConcurrentActivityFunctions (4 per instance) spreads them over ~4
   * instances of 2,048 MB, each unit holding well under its 512 MB share. More users at once
   * would only queue behind the tenant's Graph budget; fewer leave it unused.
   */
  userParallelism: number;
  /** Time budget of one backup work unit (activity); it then commits and hands over to the next. */
  unitSeconds: number;
  /** A known user's services are probed again after this many days (new users always; 0: every run). */
  directoryProbeDays: number;
  rehydratePriority: 'Standard' | 'High';
  restorePollSeconds: number;
  /** M365_RESTORE_PARALLELISM. */
  restoreParallelism: number;
  storagePrices: Readonly<Record<StorageTier, number>>;
  /** PACK_LOCK_DAYS (0: off). */
  packLockDays: number;
  /** How long a restore's download link (and so its zip, deleted then) lasts; default 24 h. */
  restoreLinkMinutes: number;
  /** Archive-tier emulation for local tests: rehydration delay in seconds; undefined = off. */
  emulateArchiveSeconds?: number;
}

function positiveInt(name: string, v: string | undefined, def: number): number {
  if (v === undefined || v.trim() === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new BackupError('USAGE', `${name} must be a whole number of at least 1, not "${v}".`);
  return n;
}

function nonNegativeSeconds(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new BackupError('USAGE', `${name} must be a number of seconds (0 or more), not "${v}".`);
  return n;
}

/** Minutes, fractions allowed (a test can make a restore link last seconds). */
function positiveMinutes(name: string, v: string | undefined, def: number): number {
  if (v === undefined || v.trim() === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new BackupError('USAGE', `${name} must be a positive number of minutes, not "${v}".`);
  return n;
}

/** "4,10000/600" = 4 concurrent, 10,000 requests per 600 s (Outlook's documented limits). */
function parseMailboxBudget(v: string | undefined): Settings['mailboxBudget'] {
  if (!v || v.trim() === '') return { concurrency: 4, budget: 10_000, windowMs: 600_000 };
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1 || Number(m[3]) <= 0)
    throw new BackupError('USAGE', `GRAPH_MAILBOX_BUDGET must look like "4,10000/600" (concurrency, requests per seconds), not "${v}".`);
  return { concurrency: Number(m[1]), budget: Number(m[2]), windowMs: Math.round(Number(m[3]) * 1000) };
}

/** "Hot=0.0458,Cool=0.025" (any subset; the others keep their defaults). */
function parseStoragePrices(v: string | undefined): Settings['storagePrices'] {
  if (!v || v.trim() === '') return DEFAULT_STORAGE_PRICES;
  const out: Record<StorageTier, number> = { ...DEFAULT_STORAGE_PRICES };
  for (const part of v.split(',')) {
    const m = /^\s*(hot|cool|cold|archive)\s*=\s*(\d+(?:\.\d+)?)\s*$/i.exec(part);
    if (!m) throw new BackupError('USAGE', `STORAGE_PRICES must look like "Hot=0.0458,Cool=0.025,Cold=0.0081,Archive=0.0036" (price per GiB-month), not "${v}".`);
    const t = m[1]!.toLowerCase();
    out[(t[0]!.toUpperCase() + t.slice(1)) as StorageTier] = Number(m[2]);
  }
  return out;
}

/** "1200/60" = 1,200 requests per 60 s. */
function parseTenantRate(v: string | undefined): Settings['tenantRate'] {
  if (!v || v.trim() === '') return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) <= 0) throw new BackupError('USAGE', `GRAPH_TENANT_RATE must look like "1200/60" (requests per seconds), not "${v}".`);
  return { budget: Number(m[1]), windowMs: Math.round(Number(m[2]) * 1000) };
}

function httpsOrigin(name: string, v: string): string {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new BackupError('USAGE', `${name} "${v}" is not a URL.`);
  }
  if (url.protocol !== 'https:') throw new BackupError('USAGE', `${name} must use https (the Graph SDK sends tokens only over https).`);
  return v.replace(/\/+$/, '');
}

const nonEmpty = (v: string | undefined) => (v && v.trim() !== '' ? v.trim() : undefined);

/** Parses and validates the environment; overrides (CLI flags) win over it. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Settings> = {}): Settings {
  const s: Settings = {
    storageConnectionString: nonEmpty(env[SETTING_NAMES.storageConnectionString]),
    storageBlobUrl: nonEmpty(env[SETTING_NAMES.storageBlobUrl]),
    storageTableUrl: nonEmpty(env[SETTING_NAMES.storageTableUrl]),
    repository: nonEmpty(env[SETTING_NAMES.repository]) ?? 'm365backup',
    keyVaultUrl: nonEmpty(env[SETTING_NAMES.keyVaultUrl]),
    keyVaultKeyName: nonEmpty(env[SETTING_NAMES.keyVaultKeyName]),
    dataDir: nonEmpty(env[SETTING_NAMES.dataDir]) ?? join(homedir(), '.m365-backup'),
    kdfProfile: env[SETTING_NAMES.kdfProfile] === 'test' ? 'test' : 'default',
    graphBaseUrl: httpsOrigin(SETTING_NAMES.graphBaseUrl, nonEmpty(env[SETTING_NAMES.graphBaseUrl]) ?? 'https://graph.microsoft.com/v1.0'),
    authorityHost: httpsOrigin(SETTING_NAMES.authorityHost, nonEmpty(env[SETTING_NAMES.authorityHost]) ?? 'https://login.microsoftonline.com'),
    mailboxBudget: parseMailboxBudget(env[SETTING_NAMES.mailboxBudget]),
    tenantConcurrency: positiveInt(SETTING_NAMES.tenantConcurrency, env[SETTING_NAMES.tenantConcurrency], 16),
    tenantRate: parseTenantRate(env[SETTING_NAMES.tenantRate]),
    sharedBudgets: env[SETTING_NAMES.sharedBudgets]?.trim().toLowerCase() !== 'off',
    userParallelism: positiveInt(SETTING_NAMES.userParallelism, env[SETTING_NAMES.userParallelism], DEFAULT_USER_PARALLELISM),
    unitSeconds: env[SETTING_NAMES.unitSeconds] === '0' ? 0 : positiveInt(SETTING_NAMES.unitSeconds, env[SETTING_NAMES.unitSeconds], 600),
    directoryProbeDays: env[SETTING_NAMES.directoryProbeDays] === '0' ? 0 : positiveInt(SETTING_NAMES.directoryProbeDays, env[SETTING_NAMES.directoryProbeDays], 7),
    rehydratePriority: env[SETTING_NAMES.rehydratePriority] === 'High' ? 'High' : 'Standard',
    restorePollSeconds: positiveInt(SETTING_NAMES.restorePollSeconds, env[SETTING_NAMES.restorePollSeconds], 900),
    restoreParallelism: positiveInt(SETTING_NAMES.restoreParallelism, env[SETTING_NAMES.restoreParallelism], 4),
    storagePrices: parseStoragePrices(env[SETTING_NAMES.storagePrices]),
    packLockDays: env[SETTING_NAMES.packLockDays] === undefined || env[SETTING_NAMES.packLockDays]!.trim() === '' || env[SETTING_NAMES.packLockDays] === '0' ? 0 : positiveInt(SETTING_NAMES.packLockDays, env[SETTING_NAMES.packLockDays], 0),
    restoreLinkMinutes: positiveMinutes(SETTING_NAMES.restoreLinkMinutes, env[SETTING_NAMES.restoreLinkMinutes], 24 * 60),
    emulateArchiveSeconds: nonNegativeSeconds(SETTING_NAMES.emulateArchiveSeconds, env[SETTING_NAMES.emulateArchiveSeconds]),
  };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (s as unknown as Record<string, unknown>)[k] = v;
  if (s.keyVaultUrl) {
    let url: URL;
    try {
      url = new URL(s.keyVaultUrl);
    } catch {
      throw new BackupError('USAGE', `The Key Vault URL "${s.keyVaultUrl}" is not a URL.`);
    }
    if (url.protocol !== 'https:') throw new BackupError('USAGE', 'The Key Vault URL must use https.');
    if (!s.keyVaultKeyName) throw new BackupError('USAGE', 'A Key Vault URL needs a key name too (--key-name or KEY_VAULT_KEY_NAME).');
  }
  if ((s.storageBlobUrl && !s.storageTableUrl) || (!s.storageBlobUrl && s.storageTableUrl))
    throw new BackupError('USAGE', 'Set both AZURE_STORAGE_BLOB_URL and AZURE_STORAGE_TABLE_URL, or neither.');
  return s;
}
