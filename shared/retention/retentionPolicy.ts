import { BackupError } from '../errors';
import { SERVICES, type Service } from '../m365';
import { parseDuration } from './duration';

/**
 * A retention policy (docs/retention.md). Absent rules mean "keep everything": nothing is ever
 * lost by default. Scopes, most specific first: user+service, user, service, tenant default. In a
 * folder repository a "user" scope names a partition. A legal hold (tenant or user) keeps everything
 * of its scope whatever the rules say.
 */
export interface KeepRules {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** A duration such as "30d", "1y6m", "12h": keep every snapshot within it of the newest one. */
  within?: string;
}

export interface UserPolicy {
  keep?: KeepRules;
  services?: Partial<Record<Service, KeepRules>>;
  legalHold?: boolean;
}

export interface RetentionPolicy {
  version: 1;
  keep?: KeepRules;
  services?: Partial<Record<Service, KeepRules>>;
  users?: Record<string, UserPolicy>;
  legalHold?: boolean;
}

export const COUNT_RULES = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
/** Larger counts are typing mistakes (100,000 daily snapshots is 273 years), refused rather than stored. */
export const MAX_KEEP_COUNT = 100_000;

export const EMPTY_POLICY: RetentionPolicy = { version: 1 };

/** Checks one rule set; USAGE naming the bad value otherwise. `where` names the scope in messages. */
export function validateKeepRules(rules: unknown, where: string): KeepRules {
  if (!rules || typeof rules !== 'object' || Array.isArray(rules)) throw new BackupError('USAGE', `The keep rules of ${where} must be an object.`);
  const out: KeepRules = {};
  for (const [k, v] of Object.entries(rules as Record<string, unknown>)) {
    if (k === 'within') {
      if (typeof v !== 'string') throw new BackupError('USAGE', `keep-within of ${where} must be a duration such as 30d, 1y6m or 12h.`);
      parseDuration(v, `keep-within of ${where}`);
      out.within = v;
    } else if ((COUNT_RULES as readonly string[]).includes(k)) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_KEEP_COUNT)
        throw new BackupError('USAGE', `keep-${k} ${String(v)} of ${where} is not valid: give a whole number from 0 to ${MAX_KEEP_COUNT}.`);
      out[k as (typeof COUNT_RULES)[number]] = v;
    } else throw new BackupError('USAGE', `"${k.slice(0, 40)}" is not a keep rule (${[...COUNT_RULES, 'within'].join(', ')}).`);
  }
  if (!keepsSomething(out))
    throw new BackupError('USAGE', `The keep rules of ${where} would keep no snapshot: give at least one positive keep count or a keep-within duration.`, {
      hint: 'To keep everything, remove the rules of that scope instead.',
    });
  return out;
}

export function keepsSomething(r: KeepRules): boolean {
  return COUNT_RULES.some((k) => (r[k] ?? 0) > 0) || (r.within !== undefined && parseDuration(r.within, 'keep-within').ms > 0);
}

function validateServices(v: unknown, where: string): Partial<Record<Service, KeepRules>> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new BackupError('USAGE', `The service rules of ${where} must be an object.`);
  const out: Partial<Record<Service, KeepRules>> = {};
  for (const [s, r] of Object.entries(v as Record<string, unknown>)) {
    if (!(SERVICES as readonly string[]).includes(s)) throw new BackupError('USAGE', `"${s.slice(0, 40)}" is not a service (${SERVICES.join(', ')}).`);
    out[s as Service] = validateKeepRules(r, `${where}, service ${s}`);
  }
  return out;
}

/** Parses and checks a whole policy document (from the repository, a file or an HTTP body). */
export function validatePolicy(doc: unknown): RetentionPolicy {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new BackupError('USAGE', 'A retention policy must be a JSON object.');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d))
    if (!['version', 'keep', 'services', 'users', 'legalHold'].includes(k)) throw new BackupError('USAGE', `"${k.slice(0, 40)}" is not a field of a retention policy.`);
  if (d.version !== undefined && d.version !== 1) throw new BackupError('USAGE', `Retention policy version ${String(d.version)} is not supported (only 1).`);
  const out: RetentionPolicy = { version: 1 };
  if (d.keep !== undefined) out.keep = validateKeepRules(d.keep, 'the default');
  if (d.services !== undefined) out.services = validateServices(d.services, 'the default');
  if (d.legalHold !== undefined) out.legalHold = bool(d.legalHold, 'legalHold');
  if (d.users !== undefined) {
    if (!d.users || typeof d.users !== 'object' || Array.isArray(d.users)) throw new BackupError('USAGE', '"users" must be an object keyed by user.');
    out.users = {};
    for (const [u, p] of Object.entries(d.users as Record<string, unknown>)) {
      if (!p || typeof p !== 'object' || Array.isArray(p)) throw new BackupError('USAGE', `The policy of user ${u.slice(0, 64)} must be an object.`);
      const up = p as Record<string, unknown>;
      for (const k of Object.keys(up))
        if (!['keep', 'services', 'legalHold'].includes(k)) throw new BackupError('USAGE', `"${k.slice(0, 40)}" is not a field of a user's policy.`);
      const user: UserPolicy = {};
      if (up.keep !== undefined) user.keep = validateKeepRules(up.keep, `user ${u}`);
      if (up.services !== undefined) user.services = validateServices(up.services, `user ${u}`);
      if (up.legalHold !== undefined) user.legalHold = bool(up.legalHold, `legalHold of user ${u}`);
      out.users[u] = user;
    }
  }
  return out;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new BackupError('USAGE', `${what} must be true or false.`);
  return v;
}

/** What applies to one user's service (or one folder partition): a legal hold, rules, or keep-everything. */
export type EffectiveRules = { kind: 'hold' } | { kind: 'all' } | { kind: 'rules'; rules: KeepRules; scope: string };

export function effectiveRules(policy: RetentionPolicy, user: string | undefined, service?: Service): EffectiveRules {
  const u = user !== undefined ? findUser(policy, user) : undefined;
  if (policy.legalHold || u?.legalHold) return { kind: 'hold' };
  const pick: [KeepRules | undefined, string][] = [
    [service ? u?.services?.[service] : undefined, `user ${user}, service ${service}`],
    [u?.keep, `user ${user}`],
    [service ? policy.services?.[service] : undefined, `service ${service}`],
    [policy.keep, 'the default'],
  ];
  const found = pick.find(([r]) => r !== undefined);
  return found ? { kind: 'rules', rules: found[0]!, scope: found[1] } : { kind: 'all' };
}

/** Users are matched case-insensitively (UPNs are). */
function findUser(policy: RetentionPolicy, user: string): UserPolicy | undefined {
  const key = Object.keys(policy.users ?? {}).find((k) => k.toLowerCase() === user.toLowerCase());
  return key === undefined ? undefined : policy.users![key];
}

export interface PolicyChange {
  user?: string;
  service?: Service;
  /** New rules for the scope; `null` removes them (the scope inherits again). */
  keep?: KeepRules | null;
  legalHold?: boolean;
}

/** A new policy with one scope changed; the input is not modified. Validates the result. */
export function changePolicy(policy: RetentionPolicy, change: PolicyChange): RetentionPolicy {
  const next = JSON.parse(JSON.stringify(policy)) as RetentionPolicy;
  if (change.legalHold !== undefined && change.service !== undefined)
    throw new BackupError('USAGE', 'A legal hold applies to a whole tenant or a whole user, not to one service.');
  const target: { keep?: KeepRules; services?: Partial<Record<Service, KeepRules>>; legalHold?: boolean } =
    change.user === undefined ? next : ((next.users ??= {})[existingKey(next, change.user)] ??= {});
  if (change.keep !== undefined) {
    if (change.service) {
      if (change.keep === null) delete target.services?.[change.service];
      else (target.services ??= {})[change.service] = change.keep;
      if (target.services && Object.keys(target.services).length === 0) delete target.services;
    } else if (change.keep === null) delete target.keep;
    else target.keep = change.keep;
  }
  if (change.legalHold !== undefined) {
    if (change.legalHold) target.legalHold = true;
    else delete target.legalHold;
  }
  if (change.user !== undefined && next.users) {
    const k = existingKey(next, change.user);
    if (Object.keys(next.users[k] ?? {}).length === 0) delete next.users[k];
    if (Object.keys(next.users).length === 0) delete next.users;
  }
  return validatePolicy(next);
}

function existingKey(policy: RetentionPolicy, user: string): string {
  return Object.keys(policy.users ?? {}).find((k) => k.toLowerCase() === user.toLowerCase()) ?? user;
}
