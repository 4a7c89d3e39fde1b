import { resolve, sep } from 'node:path';
import { BackupError } from '../errors';

/** Joins a stored (relative) path under the restore target, refusing anything that would escape it. */
export function joinUnderTarget(target: string, path: string): string {
  const full = resolve(target, path);
  if (full !== target && !full.startsWith(target + sep)) throw new BackupError('INTEGRITY', `A stored path escapes the restore target: ${path}`);
  return full;
}
