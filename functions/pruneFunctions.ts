import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { SERVICES } from '../shared/m365';
import { isBackupError } from '../shared/errors';
import { endRestoreSession, openRestoreSession, prune, type PruneResult } from '../shared/repo';
import { forgetTenantPage, isoWeek } from '../shared/retention';
import { redactingErrors } from '../shared/redact';
import type { ForgetPageInput, ForgetPageOutput, PruneCounts, PruneTenantInput } from './contracts';
import { appServices } from './runtime';
import { startPerTenant } from './startPerTenant';

/** The instance id of a tenant's weekly prune: one per tenant and ISO week, so a week never prunes twice. */
export const weeklyPruneInstanceId = (tenant: string, when: Date) => `prune-${tenant}-${isoWeek(when).replace('-W', 'w')}`; // prune-contoso-2026w49

/** One directory page: forget its users' snapshots the stored policy does not keep. Counts only out. */
df.app.activity('forgetTenantPage', {
  handler: redactingErrors(async (input: ForgetPageInput): Promise<ForgetPageOutput> => {
    const { repo } = await appServices().tenant(input.tenant);
    const page = await forgetTenantPage(repo, input.tenant, { services: SERVICES, after: input.after, dryRun: input.dryRun });
    let kept = 0;
    let forgotten = 0;
    for (const o of page.outcomes) {
      const drop = o.decisions.filter((d) => !d.keep).length;
      kept += o.decisions.length - drop;
      forgotten += input.dryRun ? drop : o.forgotten.length;
    }
    return { partitions: page.outcomes.length, kept, forgotten, ...(page.next ? { next: page.next } : {}) };
  }),
});

/**
 * Prunes the tenant's repository (leases, mark, sweep; Archive- and WORM-aware). With a session (the
 * password was given to POST /api/prune) it also repacks; the session ends with the activity, so a
 * retry after a failure prunes without repacking (partly used packs are kept whole, and counted).
 */
df.app.activity('pruneTenantRepository', {
  handler: redactingErrors(async (input: PruneTenantInput): Promise<PruneCounts> => {
    const { repo } = await appServices().tenant(input.tenant);
    const session = input.sessionId;
    const privateKey = session
      ? () =>
          openRestoreSession(repo, session).catch((e: unknown) => {
            if (isBackupError(e, 'NOT_FOUND')) return undefined;
            throw e;
          })
      : undefined;
    try {
      return pruneCounts(await prune(repo, { dryRun: input.dryRun, earlyDeletion: input.earlyDeletion, prices: appServices().settings.storagePrices, ...(privateKey ? { privateKey } : {}) }));
    } finally {
      if (session) await endRestoreSession(repo, session).catch(() => undefined);
    }
  }),
});

export function pruneCounts(r: PruneResult): PruneCounts {
  const { deferredFor: _why, ...counts } = r;
  return counts;
}

/**
 * Starts `pruneTenant` for every registered tenant on PRUNE_SCHEDULE (NCRONTAB, default weekly,
 * "0 0 3 * * 0": Sunday 03:00 UTC, after the nightly backup). A second firing the same week finds
 * the instance and starts nothing. Nothing is forgotten unless a tenant has a retention policy.
 */
app.timer('weeklyPrune', {
  schedule: '%PRUNE_SCHEDULE%',
  extraInputs: [df.input.durableClient()],
  handler: (timer: Timer, context: InvocationContext) =>
    startPerTenant(timer, context, 'weekly prune', 'pruneTenant', weeklyPruneInstanceId, (tenant): PruneTenantInput => ({ tenant, dryRun: false, earlyDeletion: 'defer' })),
});
