import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startM365Suite, type M365Suite } from './support/m365';

/**
 * Issue 9 acceptance: two processes backing up disjoint users of one tenant against the
 * simulator's enforced limits, per app per tenant (concurrency and a request window, counted across
 * both clients) and per mailbox. Their budgets are shared through the repository's budget rows in
 * Azurite, so together they stay inside the limits (at most 1% of requests answered 429) and still
 * use at least 90% of the tenant's request budget. Limits are scaled down (a 10 s window) so the
 * run takes about half a minute; each process would alone fill the window. (Storage traffic is a
 * larger share of Graph traffic here than with Graph's real windows: grants are held 1/20 of a
 * window (at least 2 s), 30 s for Outlook's 10 minutes; bench:graph measures the real ratio.)
 */
const WINDOW_MS = 10_000;
const BUDGET = 60; // 6 requests/s for the tenant: below what two processes send even on a heavily loaded test machine (~9/s seen at load 27 on 2 cores)
const CONCURRENCY = 6;
const USERS = 8;
const WORKER = join(__dirname, 'support', 'sharedBudgetWorker.js');

interface WorkerResult {
  outcomes: string[];
  failures: string[];
  counters: { requests: number; throttled: number; retries: number };
  syncs: number;
  syncsBy: Record<string, number>;
  wallMs: number;
  started: number;
}

function runWorker<T = WorkerResult>(env: NodeJS.ProcessEnv, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill(), 150_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`worker exited ${code}: ${err.slice(-2000)}`));
      if (err.trim()) console.log(`# worker stderr: ${err.slice(-3000)}`);
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as T);
    });
  });
}

/** Mean share of the budget admitted per full window of the busy period (first to last admitted arrival). */
function budgetUse(arrivals: number[]): { use: number; windows: number } {
  const a = [...arrivals].sort((x, y) => x - y);
  const windows = Math.floor((a.at(-1)! - a[0]!) / WINDOW_MS);
  const inFull = a.filter((t) => t < a[0]! + windows * WINDOW_MS).length;
  return { use: inFull / (windows * BUDGET), windows };
}

describe('Graph budgets shared across processes (two processes, one tenant, the simulator enforcing limits per tenant and per mailbox)', () => {
  let suite: M365Suite;

  before(async () => {
    suite = await startM365Suite([{ name: 'shared', seed: 91, shape: { users: USERS, filesPerUser: 0, maxFileBytes: 1, messagesPerUser: 30, eventsPerUser: 0, contactsPerUser: 0 } }], {
      latencyMs: 20,
      limits: { concurrency: 4, budget: 10_000, windowMs: 600_000 },
      tenantLimits: { concurrency: CONCURRENCY, budget: BUDGET, windowMs: WINDOW_MS },
    });
    assert.equal((await suite.addTenant('shared')).code, 0);
  });
  after(async () => {
    await suite?.stop();
  });

  // Asserted on counts at the simulator (its arrivals and 429 answers) and the ledger's sync count,
  // not on time: on a loaded machine the run is slower, not less exact (stop 16 measured 84% here:
  // grants spent while their take was in flight were dropped unsettled and held the window 2 s
  // longer each; sharedGates.ts TokenBatch.accept).
  test('together they stay inside the limits (<= 1% answered 429) and use >= 90% of the tenant budget', async () => {
    const env = suite.processEnv({ GRAPH_TENANT_CONCURRENCY: String(CONCURRENCY), GRAPH_TENANT_RATE: `${BUDGET}/${WINDOW_MS / 1000}`, GRAPH_SHARED_BUDGETS: process.env.SHARED_BUDGETS_MODE ?? 'on' });
    const runId = 'sharedbudgets1';
    // The roster is listed with this process's own gates (budgets off), so the ledger starts as empty as the simulator's window.
    assert.deepEqual(await runWorker({ ...env, GRAPH_SHARED_BUDGETS: 'off' }, ['begin', 'shared', runId]), { users: USERS });

    const sim = suite.sim;
    sim.resetStats();
    sim.tenantLimiter.reset(); // measure the two processes from an empty window
    const halves = [0, 1].map((h) => Array.from({ length: USERS / 2 }, (_, i) => 2 * i + h).join(','));
    const [a, b] = await Promise.all(halves.map((list) => runWorker(env, ['units', 'shared', runId, list, '4'])));

    // They really ran side by side (each alone would have filled the window).
    const overlap = Math.min(a!.started + a!.wallMs, b!.started + b!.wallMs) - Math.max(a!.started, b!.started);
    assert.ok(overlap > 0.5 * Math.max(a!.wallMs, b!.wallMs), `the two processes overlapped ${overlap} ms of ${a!.wallMs} / ${b!.wallMs}`);

    const tenantId = suite.tenants.get('shared')!.tenant.tenantId;
    const requests = sim.stats.tenantRequests.get(tenantId) ?? 0;
    const throttled = sim.stats.throttled;
    const { use, windows } = budgetUse(sim.stats.tenantArrivals.get(tenantId) ?? []);
    const summary = `${requests} requests, ${throttled} answered 429 (${sim.stats.tenantThrottled} by the tenant limits: ${JSON.stringify(Object.fromEntries(sim.stats.tenantThrottledBy))}), budget use ${(use * 100).toFixed(1)}% over ${windows} windows, peak tenant concurrency ${sim.stats.peakTenantConcurrency}, ledger syncs ${a!.syncs + b!.syncs} (${JSON.stringify(a!.syncsBy)} / ${JSON.stringify(b!.syncsBy)})`;
    console.log(`# ${summary}`);
    // Every user's mail was backed up; a unit may fail for reasons of its own on a loaded machine
    // (a partition lock renewal), never for a 429 that went up.
    for (const w of [a!, b!]) assert.ok(w.outcomes.length >= USERS / 2, JSON.stringify(w.outcomes));
    for (const w of [a!, b!]) assert.ok(!w.failures.some((f) => /429|throttl|too many/i.test(f)), JSON.stringify(w.failures));
    assert.ok(requests >= 4 * BUDGET, summary);
    assert.ok(windows >= 3, summary);
    assert.ok(throttled <= 0.01 * requests, summary);
    assert.ok(use >= 0.9, summary);
    // Storage traffic is a fraction of Graph traffic. Measured 150-174 ledger syncs for 344 requests
    // (0.44-0.51 a request; the higher under load, when grants lapse less spent): two thirds of them
    // are tenant-rate grants, at most 1/8 of this scaled-down 60-request budget each (<= 7 tokens)
    // and held <= 2 s. Bound: a sync per 1.5 requests; bench:graph measures Graph's real windows.
    assert.ok(1.5 * (a!.syncs + b!.syncs) < requests, summary);
  });
});
