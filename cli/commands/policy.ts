import { BackupError } from '../../shared/errors';
import { getRetentionPolicy, setRetentionPolicy, validateKeepRules, type KeepRules, type PolicyChange, type RetentionPolicy } from '../../shared/retention';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { refuseAt } from '../selection';

/**
 * policy show | policy set: the repository's retention policy (tenant default, --service, --user or,
 * for a folder repository, --partition scopes). `tenant policy ...` is the same command.
 */
export async function policyCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseAt(args, 'policy');
  const [sub, extra] = args.positionals;
  if (extra || !['show', 'set'].includes(sub ?? '')) throw new BackupError('USAGE', 'Use: m365-backup [tenant] policy show|set [--tenant <n>] [--user <upn>] [--service <s>] [--keep-* ...] [--legal-hold on|off] [--inherit].');
  const change = sub === 'set' ? changeOf(args) : undefined; // validated before the repository is opened
  const { repo, label } = await ctx.repositoryFor(args.m365.tenant);
  const policy = change ? await setRetentionPolicy(repo, change) : await getRetentionPolicy(repo);
  if (ctx.options.json) console.log(JSON.stringify(policy, null, 2));
  else {
    if (change) console.log(`Stored the retention policy of ${label}.`);
    for (const line of describePolicy(policy)) console.log(line);
  }
  return 0;
}

function changeOf(args: ParsedArgs): PolicyChange {
  const r = args.retention;
  const services = args.m365.services;
  if (services && services.length !== 1) throw new BackupError('USAGE', 'policy set takes at most one --service.');
  if (args.m365.tenant && args.partitionGiven) throw new BackupError('USAGE', 'policy --tenant takes --user, not --partition.');
  const user = args.m365.user ?? (args.partitionGiven ? args.global.partition : undefined);
  const where = [user && `user ${user}`, services && `service ${services[0]}`].filter(Boolean).join(', ') || 'the default';
  const hasRules = Object.keys(r.keep).length > 0;
  if (r.inherit && hasRules) throw new BackupError('USAGE', '--inherit removes the rules of a scope: give it without --keep-* flags.');
  if (!hasRules && !r.inherit && r.legalHold === undefined) throw new BackupError('USAGE', 'policy set needs --keep-* flags, --inherit or --legal-hold on|off.');
  const keep: KeepRules | null | undefined = r.inherit ? null : hasRules ? validateKeepRules(r.keep, where) : undefined;
  return { ...(user !== undefined ? { user } : {}), ...(services ? { service: services[0]! } : {}), ...(keep !== undefined ? { keep } : {}), ...(r.legalHold !== undefined ? { legalHold: r.legalHold } : {}) };
}

export function describeRules(r: KeepRules): string {
  return [
    ...(['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const).filter((k) => r[k] !== undefined).map((k) => `${k} ${r[k]}`),
    ...(r.within ? [`within ${r.within}`] : []),
  ].join(', ');
}

function describePolicy(p: RetentionPolicy): string[] {
  const lines = [`default: ${p.legalHold ? 'LEGAL HOLD (everything kept)' : p.keep ? `keep ${describeRules(p.keep)}` : 'keep everything'}`];
  for (const [s, r] of Object.entries(p.services ?? {})) lines.push(`service ${s}: keep ${describeRules(r)}`);
  for (const [u, up] of Object.entries(p.users ?? {})) {
    if (up.legalHold) lines.push(`user ${u}: LEGAL HOLD (everything kept)`);
    if (up.keep) lines.push(`user ${u}: keep ${describeRules(up.keep)}`);
    for (const [s, r] of Object.entries(up.services ?? {})) lines.push(`user ${u}, service ${s}: keep ${describeRules(r)}`);
  }
  return lines;
}
