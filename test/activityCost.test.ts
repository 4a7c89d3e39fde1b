import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startM365Suite, type M365Suite } from './support/m365';
import { totalRequests } from '../shared/storage/countingStores';
import { recordedInBatch, type Service, type ServiceOutcome } from '../shared/m365';
import type { ReportLine } from '../shared/backup/m365/runRecords';
import { DriverProcess } from './support/driverProcess';

/**
 * What an unchanged (user, service) costs through the Function App's activity handlers (issue 9,
 * point 2), as the Durable runtime calls them in one worker process: each activity opens what it
 * needs itself (tenant, repository, roster), so this counts what test/unitCost.test.ts (a unit
 * with a pre-opened repository) cannot. The order is a run's: begin, then per user its services
 * and its units, the range's batch record of unchanged outcomes, finish. Storage requests are
 * counted by CountingBlobStore/CountingTableStore around the app's stores, Graph requests by the
 * simulator.
 */
const SHAPE = { users: 3, filesPerUser: 2, maxFileBytes: 50_000, messagesPerUser: 2, eventsPerUser: 1, contactsPerUser: 1 };
const SERVICES: Service[] = ['onedrive', 'mail', 'calendar', 'contacts'];
const DRIVER = join(__dirname, 'support', 'activityCostDriver.js');

class Worker extends DriverProcess {
  constructor(env: NodeJS.ProcessEnv) {
    super(DRIVER, env);
  }
  call = (name: string, input: unknown) => this.send({ cmd: 'call', name, input });
}

interface UnitCost {
  index: number;
  service: Service;
  outcome: ServiceOutcome & { more: boolean };
  storage: number;
  blobWrites: number;
  byMethod: Record<string, number>;
  graph: number;
  routes: Record<string, number>;
}

describe('an unchanged (user, service) through the activity handlers', () => {
  let suite: M365Suite;
  let w: Worker;
  const graphRequests = () => suite.sim.stats.seenHeaders.filter((l) => / \/v1\.0\//.test(l)).length;

  /** One run as the orchestrations make it (one range of every user), with each activity's cost. */
  const run = async (runId: string) => {
    const begin = await w.call('beginBackupRun', { tenant: 'cost', runId, services: SERVICES });
    const users = (begin.result as { users: number }).users;
    const units: UnitCost[] = [];
    const userServices: number[] = [];
    const unchanged: { index: number; service: Service; snapshot: number; items: number }[] = [];
    for (let index = 0; index < users; index++) {
      const svc = await w.call('userServices', { tenant: 'cost', runId, index, services: SERVICES });
      userServices.push(totalRequests(svc.counts!));
      for (const service of svc.result as Service[]) {
        suite.sim.resetStats();
        const r = await w.call('backupUserService', { tenant: 'cost', runId, index, service, unit: 1 });
        const outcome = r.result as ServiceOutcome & { more: boolean };
        assert.equal(outcome.more, false);
        units.push({ index, service, outcome, storage: totalRequests(r.counts!), blobWrites: r.counts!.blobWrites, byMethod: r.counts!.byMethod, graph: graphRequests(), routes: Object.fromEntries(suite.sim.stats.requests) });
        if (recordedInBatch({ ...outcome, units: 1 })) unchanged.push({ index, service, snapshot: outcome.snapshot, items: outcome.items });
      }
    }
    const record = unchanged.length > 0 ? totalRequests((await w.call('recordUnchangedOutcomes', { tenant: 'cost', runId, from: 0, entries: unchanged })).counts!) : 0;
    const totals = { users, services: units.length, items: 0, fetched: 0, fetchedBytes: 0, removed: 0, failed: 0, partial: 0 };
    const finish = await w.call('finishBackupRun', { tenant: 'cost', runId, totals });
    assert.equal((finish.result as { status: string }).status, 'complete');
    return { users, units, userServices, record };
  };

  before(async () => {
    suite = await startM365Suite([{ name: 'cost', seed: 19, shape: SHAPE }]);
    const add = await suite.addTenant('cost');
    assert.equal(add.code, 0, add.stderr);
    w = new Worker(suite.processEnv({ M365_BACKUP_PASSWORD: suite.tenants.get('cost')!.password }));
    const ready = await w.ready;
    assert.ok(ready.ok, ready.error);
  });
  after(async () => {
    w?.stop();
    await suite?.stop();
  });

  test('<= 4 storage requests, no blob write and its delta round trip at Graph per unchanged unit; the report still has every line', async () => {
    const first = await run('act-1');
    assert.equal(first.units.length, SHAPE.users * SERVICES.length);
    for (const u of first.units) assert.ok(!u.outcome.unchanged && u.outcome.status === 'complete', JSON.stringify(u.outcome));

    const second = await run('act-2');
    const costs: Record<string, unknown> = {};
    for (const u of second.units) {
      if (u.index === 0) costs[u.service] = { storage: u.storage, byMethod: u.byMethod, graph: u.graph };
      assert.equal(u.outcome.unchanged, true, `${u.service} of user ${u.index}: ${JSON.stringify(u.outcome)}`);
      assert.ok(u.storage <= 4, `${u.service} of user ${u.index}: ${u.storage} storage requests ${JSON.stringify(u.byMethod)}`);
      assert.equal(u.blobWrites, 0, `${u.service} of user ${u.index}: no blob write`);
      // Mail: the folder tree listing, one batch of every folder's delta and one of the mailbox configuration (test/unitCost.test.ts).
      if (u.service !== 'mail') assert.ok(u.graph <= 2, `${u.service}: ${u.graph} Graph requests ${JSON.stringify(u.routes)}`);
      else for (const route of Object.keys(u.routes)) assert.match(route, /folder|delta|mailboxSettings|messageRules|masterCategories/i, JSON.stringify(u.routes));
    }
    // The other activities of the run, per unchanged (user, service): the user's services (the
    // roster page is cached per process: only the first open of the run reads anything) and the
    // range's one batch row.
    const others = second.userServices.slice(1).reduce((a, b) => a + b, 0) + second.record;
    const perUnit = (second.units.reduce((n, u) => n + u.storage, 0) + others) / second.units.length;
    console.log(`unchanged unit costs through the activities (user 0): ${JSON.stringify(costs)}; userServices ${JSON.stringify(second.userServices)}; batch record ${second.record}; per unit, all activities but the run's first open: ${perUnit.toFixed(2)}`);
    assert.ok(second.userServices.slice(1).every((n) => n === 0), `userServices reads nothing after the run's first open: ${JSON.stringify(second.userServices)}`);
    assert.ok(second.record <= 1, `one batch row for the range: ${second.record}`);
    assert.ok(perUnit <= 4, `per unchanged (user, service), all activities: ${perUnit}`);

    // The report has one line per user and service, the unchanged ones from the batch row.
    const report = (await w.send({ cmd: 'report', tenant: 'cost', runId: 'act-2' })).result as ReportLine[];
    assert.equal(report.length, SHAPE.users * SERVICES.length);
    for (const l of report) {
      assert.equal(l.unchanged, true);
      assert.equal(l.status, 'complete');
      const unit = second.units.find((u) => u.service === l.service && first.units.some((f) => f.index === u.index && f.service === u.service && f.outcome.snapshot === l.snapshot));
      assert.ok(unit, `the line names the previous snapshot: ${JSON.stringify(l)}`);
    }
  });
});
