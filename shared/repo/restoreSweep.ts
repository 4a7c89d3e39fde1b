import type { Repository } from './repository';
import { sweepRestorePlans } from './restorePlans';
import { sweepRestoreSessions } from './restoreSessions';
import { sweepRestoreZips } from './restoreZips';

/** Deletes everything of the restore area whose time is up (sessions, plans, zips and their links). */
export async function sweepRestoreArea(repo: Repository, now = new Date()): Promise<{ sessions: number; plans: number; zips: number }> {
  return { sessions: await sweepRestoreSessions(repo, now), plans: await sweepRestorePlans(repo, now), zips: await sweepRestoreZips(repo, now) };
}
