import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import type { ForgetPageInput, ForgetPageOutput, PruneCounts, PruneTenantInput, PruneTenantOutput } from './contracts';

const retry = new df.RetryOptions(5_000, 3);

/**
 * pruneTenant: forget by the tenant's stored retention policy, one directory page (≤ 1,000 users)
 * per activity, then one prune of the tenant's repository (its mark needs every item row at once, so
 * it is one activity; it holds the repository's prune lease and refuses to run twice). Custom status
 * shows the phase and counts. Retries: each page is idempotent (a forgotten snapshot is forgotten),
 * prune is idempotent by construction (docs/retention.md, crash safety).
 */
df.app.orchestration('pruneTenant', function* (context: OrchestrationContext) {
  const input = context.df.getInput() as PruneTenantInput;
  let after: string | undefined;
  let pages = 0;
  const totals = { partitions: 0, kept: 0, forgotten: 0 };
  do {
    context.df.setCustomStatus({ phase: 'forget', pages, ...totals });
    const page: ForgetPageOutput = yield context.df.callActivityWithRetry('forgetTenantPage', retry, { tenant: input.tenant, dryRun: input.dryRun, ...(after ? { after } : {}) } satisfies ForgetPageInput);
    pages++;
    totals.partitions += page.partitions;
    totals.kept += page.kept;
    totals.forgotten += page.forgotten;
    after = page.next;
  } while (after);
  context.df.setCustomStatus({ phase: 'prune', pages, ...totals });
  const prune: PruneCounts = yield context.df.callActivityWithRetry('pruneTenantRepository', retry, input);
  context.df.setCustomStatus({ phase: 'done', pages, ...totals });
  return { tenant: input.tenant, dryRun: input.dryRun, ...totals, prune } satisfies PruneTenantOutput;
});
