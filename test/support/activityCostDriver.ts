/**
 * A worker process for test/activityCost.test.ts: one instance of the Function App. It registers
 * the app's functions (functions/) as the local host does and, on command over IPC, calls one
 * activity's registered handler with a JSON input, as the Durable runtime would, counting every
 * storage request it makes (the app's stores wrapped before any tenant is opened). So what is
 * counted includes what each activity does on its own: opening the tenant, reading the roster.
 */
import { InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { installFunctionsCore, registry } from '../../shared/local/durable';
import { readRunLog } from '../../shared/backup/m365/runRecords';
import { CountingBlobStore, CountingTableStore, emptyCounts, type StorageCounts } from '../../shared/storage/countingStores';

type Command = { cmd: 'call'; name: string; input: unknown } | { cmd: 'report'; tenant: string; runId: string } | { cmd: 'exit' };

async function main(): Promise<void> {
  installFunctionsCore();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../functions');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { appServices } = require('../../functions/runtime') as typeof import('../../functions/runtime');
  const stores = await appServices().stores();
  const counts: { c: StorageCounts } = { c: emptyCounts() };
  const blobs = new CountingBlobStore(stores.blobs);
  const tables = new CountingTableStore(stores.tables);
  stores.blobs = blobs;
  stores.tables = tables;
  process.on('message', (m: Command) => {
    void (async () => {
      if (m.cmd === 'exit') process.exit(0);
      counts.c = emptyCounts();
      blobs.counts = counts.c;
      tables.counts = counts.c;
      try {
        if (m.cmd === 'report') {
          const t = await appServices().tenant(m.tenant);
          process.send!({ ok: true, result: await readRunLog(t.repo, m.runId) });
          return;
        }
        const fn = registry.get(m.name);
        if (!fn) throw new Error(`No activity named ${m.name} is registered.`);
        const ctx = new InvocationContext({ functionName: m.name, invocationId: randomUUID() });
        const result = await fn.callback(JSON.parse(JSON.stringify(m.input)), ctx);
        process.send!({ ok: true, result: result ?? null, counts: counts.c });
      } catch (e) {
        process.send!({ ok: false, error: String((e as Error)?.stack ?? e) });
      }
    })();
  });
  process.send!({ ok: true });
}

main().catch((e: unknown) => {
  process.send?.({ ok: false, error: String((e as Error)?.stack ?? e) });
  process.exit(1);
});
