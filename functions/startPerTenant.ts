import type { InvocationContext, Timer } from '@azure/functions';
import * as df from 'durable-functions';
import type { TenantRecord } from '../shared/tenants/registry';
import { appServices } from './runtime';

/**
 * What the timers share (nightly backup, weekly prune): for every registered tenant, start
 * `orchestrator` as `instanceIdOf(tenant, when)` unless that instance exists, so a second firing of
 * the same night or week starts nothing. `when` is the firing's time: the runtime's last update of
 * the schedule (now, in Azure), or now.
 */
export async function startPerTenant(
  timer: Timer,
  context: InvocationContext,
  what: string,
  orchestrator: string,
  instanceIdOf: (tenant: string, when: Date) => string,
  inputOf: (tenant: string, record: TenantRecord) => unknown,
): Promise<void> {
  const client = df.getClient(context);
  const updated = Date.parse(timer?.scheduleStatus?.lastUpdated ?? '');
  const when = Number.isNaN(updated) ? new Date() : new Date(updated);
  for (const t of await (await appServices().tenants()).list()) {
    const instanceId = instanceIdOf(t.name, when);
    const existing = await client.getStatus(instanceId).catch(() => undefined);
    if (existing?.runtimeStatus) {
      context.log(`${what} of ${t.name} already started as ${instanceId} (${existing.runtimeStatus})`);
      continue;
    }
    await client.startNew(orchestrator, { instanceId, input: inputOf(t.name, t) });
    context.log(`started ${what} of ${t.name} as ${instanceId}`);
  }
}
