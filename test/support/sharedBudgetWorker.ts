/**
 * One "instance" of the shared-budgets test (test/sharedBudgets.test.ts), as a separate node
 * process: backs up the mail of the roster users it is given, several work units at once, as
 * Function App activities do (`backupServiceUnit` with the connection from AppServices, whose
 * budgets are shared through the repository's budget rows). Prints its gate counters as JSON.
 *
 * Arguments: begin <tenant> <runId> [service] (lease and roster, as the beginBackupRun activity), or
 * units <tenant> <runId> <roster indices, comma-separated> <units at once> [service] (roster
 * entries without that service are skipped). The service is mail unless given.
 */
import { AppServices } from '../../shared/app/services';
import { loadSettings } from '../../shared/config';
import { forEachConcurrent } from '../../shared/concurrency';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beginTenantRun } from '../../shared/backup/m365/runUnits';
import { rosterUser } from '../../shared/backup/m365/runRecords';
import { backupServiceUnit } from '../../shared/backup/m365/serviceUnit';
import { ContentSession } from '../../shared/repo';
import type { SharedTenantGates } from '../../shared/graph/sharedGates';
import type { Service } from '../../shared/m365/services';

async function main(): Promise<void> {
  const [mode, tenant, runId, list, parallel, serviceArg] = process.argv.slice(2);
  const service = ((mode === 'begin' ? list : serviceArg) ?? 'mail') as Service;
  const services = new AppServices(loadSettings(process.env));
  const t = await services.tenant(tenant!);
  if (mode === 'begin') {
    console.log(JSON.stringify(await beginTenantRun(t.repo, await t.graph(), { tenant: tenant!, runId: runId!, services: [service], unitSeconds: 600 })));
    return services.close();
  }
  const indices = list!.split(',').map(Number);
  const outcomes: string[] = [];
  const failures: string[] = [];
  const started = Date.now();
  const spoolDir = mkdtempSync(join(tmpdir(), 'm365b-budgetworker-'));
  const session = await ContentSession.open(t.repo, { workers: 1 });
  let conn = await t.graph();
  await forEachConcurrent(indices, Number(parallel), async (index) => {
    const user = await rosterUser(t.repo, runId!, index);
    if (!user.services.includes(service)) return;
    for (;;) {
      // A new connection per unit, as each activity builds one; the gates behind it are the process's.
      conn = await t.graph();
      const r = await backupServiceUnit(t.repo, { tenant: tenant!, user, service, conn, writer: session.writer, spoolDir });
      outcomes.push(r.outcome.status);
      failures.push(...r.failures.map((f) => f.reason));
      if (!r.more) break;
    }
  });
  await session.finish();
  await session.close();
  rmSync(spoolDir, { recursive: true, force: true });
  if (failures.length) console.error(JSON.stringify(failures.slice(0, 5)));
  const gates = conn.gates as SharedTenantGates;
  console.log(JSON.stringify({ outcomes, failures, counters: gates.counters, syncs: gates.syncs ?? 0, syncsBy: (gates as { syncsBy?: Record<string, number> }).syncsBy ?? {}, wallMs: Date.now() - started, started }));
  await services.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
