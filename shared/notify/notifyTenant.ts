import { claimNotification, readWebhookUrl, releaseNotification, type Repository } from '../repo';
import { failedRunNotices, missedRunNotice, webhookBody, type RunFacts, type RunNotice } from './runNotice';
import { postWebhook } from './webhook';

/**
 * One tenant's notifications for one timer run: failed or partial backups, and yesterday's nightly
 * run if it never started; each claimed once in the repository (so it is reported once: to the
 * webhook if the tenant has one, and in `notices` for the caller's alert log line), the claim given
 * back when the post fails so the next run retries.
 */
export async function notifyTenant(
  repo: Repository,
  tenant: { name: string; created: string },
  runs: readonly RunFacts[],
  o: { now: Date; consoleUrl: string },
): Promise<{ notices: RunNotice[]; sent: string[]; failed: string[] }> {
  const url = await readWebhookUrl(repo);
  const mine = runs.filter((r) => r.tenant === tenant.name);
  const notices: RunNotice[] = failedRunNotices(mine, o.consoleUrl);
  const missed = missedRunNotice(tenant, new Set(mine.map((r) => r.id)), o.now, o.consoleUrl);
  if (missed) notices.push(missed);
  const fresh: RunNotice[] = [];
  const sent: string[] = [];
  const failed: string[] = [];
  for (const n of notices) {
    if (!(await claimNotification(repo, n.key))) continue;
    fresh.push(n);
    if (!url) continue;
    try {
      await postWebhook(url, webhookBody(n));
      sent.push(n.key);
    } catch {
      await releaseNotification(repo, n.key).catch(() => undefined);
      failed.push(n.key);
    }
  }
  return { notices: fresh, sent, failed };
}
