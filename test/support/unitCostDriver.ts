/**
 * A worker process for test/unitCost.test.ts: runs Function App work units (beginTenantRun,
 * runServiceUnit) of one registered tenant on command over IPC, counting every storage request
 * each one makes. Being its own process, it has its own process-wide caches (Bloom filter, lease
 * memory), like one instance of a scaled-out Function App.
 */
import { AppServices } from '../../shared/app/services';
import { loadSettings } from '../../shared/config/settings';
import { beginTenantRun, runServiceUnit } from '../../shared/backup/m365/runUnits';
import { rosterUser } from '../../shared/backup/m365/runRecords';
import { Lease, TENANT_RUN_LEASE } from '../../shared/repo';
import { CountingBlobStore, CountingTableStore, emptyCounts, type StorageCounts } from '../../shared/storage/countingStores';
import type { Service } from '../../shared/m365';

type Command = { cmd: 'begin'; runId: string } | { cmd: 'release'; runId: string } | { cmd: 'who'; runId: string; index: number } | { cmd: 'unit'; runId: string; index: number; service: Service } | { cmd: 'exit' };

async function main(): Promise<void> {
  const tenant = process.env.UNIT_COST_TENANT!;
  const services = new AppServices(loadSettings(process.env));
  const t = await services.tenant(tenant);
  const conn = await t.graph();
  const repo = t.repo;
  const counts: { c: StorageCounts } = { c: emptyCounts() };
  const blobs = new CountingBlobStore(repo.stores.blobs);
  const tables = new CountingTableStore(repo.stores.tables);
  repo.stores.blobs = blobs;
  repo.stores.tables = tables;
  const reset = () => {
    counts.c = emptyCounts();
    blobs.counts = counts.c;
    tables.counts = counts.c;
  };
  const settings = services.settings;
  process.on('message', (m: Command) => {
    void (async () => {
      try {
        if (m.cmd === 'exit') process.exit(0);
        reset();
        if (m.cmd === 'release') {
          await Lease.release(repo, TENANT_RUN_LEASE, m.runId);
          process.send!({ ok: true, result: {} });
        } else if (m.cmd === 'who') {
          const u = await rosterUser(repo, m.runId, m.index);
          process.send!({ ok: true, result: { id: u.id, userPrincipalName: u.userPrincipalName, services: u.services } });
        } else if (m.cmd === 'begin') {
          const r = await beginTenantRun(repo, conn, { tenant, runId: m.runId, services: ['onedrive', 'mail', 'calendar', 'contacts'], unitSeconds: settings.unitSeconds });
          process.send!({ ok: true, result: r, counts: counts.c });
        } else {
          const r = await runServiceUnit(repo, conn, { tenant, runId: m.runId, index: m.index, service: m.service, unitSeconds: settings.unitSeconds });
          process.send!({ ok: true, result: r, counts: counts.c });
        }
      } catch (e) {
        process.send!({ ok: false, error: String((e as Error)?.stack ?? e) });
      }
    })();
  });
  process.send!({ ok: true, result: { repository: repo.layout.name } });
}

main().catch((e: unknown) => {
  process.send?.({ ok: false, error: String((e as Error)?.stack ?? e) });
  process.exit(1);
});
