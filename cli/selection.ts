import { BackupError } from '../shared/errors';
import { SERVICES, type Service } from '../shared/graph';
import { parseSnapshotSelector } from '../shared/restore';
import type { ParsedArgs } from './args';

/** The services a tenant command acts on: those given, or all of them. */
export const servicesOf = (args: ParsedArgs): Service[] => args.m365.services ?? [...SERVICES];

/**
 * The snapshot selector of ls and restore: a positional "latest", number or date-time, or --at
 * (never both). Checked here so a typo is reported before the password prompt.
 */
export function snapshotSelector(positional: string | undefined, args: ParsedArgs, fallback?: string): string | undefined {
  const at = args.m365.at?.toISOString();
  if (positional !== undefined && at !== undefined) throw new BackupError('USAGE', 'Give the snapshot either as an argument or as --at, not both.');
  const spec = positional ?? at ?? fallback;
  if (spec !== undefined) parseSnapshotSelector(spec);
  return spec;
}

/** Folder-only options are refused with --tenant rather than ignored. */
export function refuseFolderOptions(args: ParsedArgs, command: string): void {
  if (!args.m365.tenant) return;
  const given = [args.partitionGiven && '--partition', args.include && '--include', args.all && '--all', args.force && '--force'].filter(Boolean);
  if (given.length) throw new BackupError('USAGE', `${command} --tenant does not take ${given.join(' or ')}: that option is for folder repositories.`);
}

/** Commands that never act on a tenant's repository refuse --tenant instead of ignoring it. */
export function refuseTenant(args: ParsedArgs, command: string, instead: string): void {
  if (args.m365.tenant) throw new BackupError('USAGE', `${command} does not take --tenant: ${instead}`);
}

/** --at picks a snapshot to read; commands that read no snapshot refuse it rather than ignore it. */
export function refuseAt(args: ParsedArgs, command: string): void {
  if (args.m365.at) throw new BackupError('USAGE', `${command} does not take --at: only ls and restore pick a snapshot by time.`);
}
