import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { installFunctionsCore, LocalDurableHost, EventType, ActionType, OUT_OF_PROC_LABEL } from '../shared/local/durable';

installFunctionsCore();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const df = require('durable-functions') as typeof import('durable-functions');

let flip = 0;
df.app.activity('double', { handler: (n: number) => n * 2 });
let attempts = 0;
df.app.activity('flaky', {
  handler: () => {
    attempts++;
    if (attempts < 3) throw new Error(`flaky attempt ${attempts}`);
    return 'ok';
  },
});
df.app.activity('huge', { handler: () => 'x'.repeat(1_100_000) });
df.app.orchestration('child', function* (ctx) {
  return (yield ctx.df.callActivity('double', ctx.df.getInput())) as number;
});
df.app.orchestration('everything', function* (ctx) {
  const input = ctx.df.getInput() as { generation: number };
  const chained = (yield ctx.df.callActivity('double', 21)) as number;
  const fanned = (yield ctx.df.Task.all([1, 2, 3].map((n) => ctx.df.callActivity('double', n)))) as number[];
  const retried = (yield ctx.df.callActivityWithRetry('flaky', new df.RetryOptions(60_000, 5), null)) as string;
  yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 2 * 86_400_000));
  const sub = (yield ctx.df.callSubOrchestrator('child', 50)) as number;
  ctx.df.setCustomStatus({ generation: input.generation });
  if (input.generation < 2) {
    ctx.df.continueAsNew({ generation: input.generation + 1 });
    return undefined;
  }
  return { chained, fanned, retried, sub, generation: input.generation };
});
df.app.orchestration('nondeterministic', function* (ctx) {
  // Wrong on purpose: replay takes a different branch than the first execution.
  const name = flip++ % 2 === 0 ? 'double' : 'flaky';
  yield ctx.df.callActivity(name, 1);
  yield ctx.df.callActivity('double', 2);
  return 'unreachable';
});
df.app.orchestration('race', function* (ctx) {
  // Task.any of fresh tasks: an activity against a day-long timer; the loser timer is cancelled.
  const timer = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 86_400_000));
  const work = ctx.df.callActivity('double', 5);
  const winner = (yield ctx.df.Task.any([work, timer])) as { result?: unknown };
  if (winner === work) timer.cancel();
  // Task.any of fresh sub-orchestrations, then each of the losers waited for on its own.
  const subs = [1, 2, 3].map((n) => ctx.df.callSubOrchestrator('child', n));
  const first = (yield ctx.df.Task.any(subs)) as { result?: unknown };
  let sum = Number(first.result);
  for (const t of subs) if (t !== first) sum += (yield t) as number;
  return { winner: winner === work ? 'activity' : 'timer', result: winner.result, sum };
});
df.app.orchestration('reusesTask', function* (ctx) {
  // Wrong on purpose: the sliding window "Task.any of what is still in flight" re-sends a scheduled task.
  const inFlight = [1, 2].map((n) => ctx.df.callActivity('double', n));
  const done = yield ctx.df.Task.any(inFlight);
  yield ctx.df.Task.any([...inFlight.filter((t) => t !== done), ctx.df.callActivity('double', 3)]);
  return 'unreachable';
});
df.app.orchestration('tooBig', function* (ctx) {
  return yield ctx.df.callActivity('huge', null);
});

test('contract: the durable-functions internals the local host relies on are unchanged (pin 3.5.0)', () => {
  const pkg = JSON.parse(readFileSync(require.resolve('durable-functions/package.json'), 'utf8')) as { version: string };
  assert.equal(pkg.version, '3.5.0', 'durable-functions is pinned; re-check the host when upgrading');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HistoryEventType } = require('durable-functions/lib/src/history/HistoryEventType') as { HistoryEventType: Record<string, number> };
  for (const [name, value] of Object.entries(EventType)) assert.equal(HistoryEventType[name], value, name);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ActionType: DfActionType } = require('durable-functions/lib/src/actions/ActionType') as { ActionType: Record<string, number> };
  for (const [name, value] of Object.entries(ActionType)) assert.equal(DfActionType[name], value, name);
  const source = readFileSync(require.resolve('durable-functions/lib/src/error/OrchestrationFailureError.js'), 'utf8');
  assert.ok(source.includes(JSON.stringify(OUT_OF_PROC_LABEL).slice(1, -1).replace(/\\\\/g, '\\')) || source.includes('$OutOfProcData$'), 'failure label');
  const executor = readFileSync(require.resolve('durable-functions/lib/src/orchestrations/TaskOrchestrationExecutor.js'), 'utf8');
  assert.ok(executor.includes('this.openTasks[task.id] = task'), 'open tasks are tracked by sequence id');
  const retry = readFileSync(require.resolve('durable-functions/lib/src/task/RetryableTask.js'), 'utf8');
  assert.ok(retry.includes('isWaitingOnTimer') && retry.includes('attemptNumber'), 'retry bookkeeping');
});

test('chaining, fan-out, retries, a two-day timer (virtual clock), a sub-orchestration and continueAsNew', async () => {
  const host = new LocalDurableHost({ clock: 'virtual' });
  const id = await host.startNew('everything', { input: { generation: 0 } });
  const s = await host.waitForCompletion(id, 30_000);
  assert.equal(s.runtimeStatus, 'Completed', String(s.output));
  assert.deepEqual(s.output, { chained: 42, fanned: [2, 4, 6], retried: 'ok', sub: 100, generation: 2 });
  assert.ok(host.now() >= Date.parse('2026-01-07T00:00:00Z'), 'three generations each waited two virtual days');
  assert.ok(host.history(id).length < 40, 'continueAsNew keeps the history short');
  await assert.rejects(host.startNew('everything', { instanceId: id }), /already exists/);
});

test('a non-deterministic orchestrator is caught, and oversized payloads fail the orchestration', async () => {
  const host = new LocalDurableHost({ clock: 'virtual' });
  const bad = await host.waitForCompletion(await host.startNew('nondeterministic'), 30_000);
  assert.equal(bad.runtimeStatus, 'Failed');
  assert.match(String(bad.output), /Non-deterministic orchestrator nondeterministic: action #0 was 0:double in history but 0:flaky on replay/);
  const big = await host.waitForCompletion(await host.startNew('tooBig'), 30_000);
  assert.equal(big.runtimeStatus, 'Failed');
  assert.match(String(big.output), /1 MiB/);
});

test('Task.any of fresh tasks works (activity against timer, sub-orchestrations); a task re-used in a new Task.any is refused as Azure would get it wrong', async () => {
  const host = new LocalDurableHost({ clock: 'virtual' });
  const s = await host.waitForCompletion(await host.startNew('race'), 30_000);
  assert.equal(s.runtimeStatus, 'Completed', String(s.output));
  assert.deepEqual(s.output, { winner: 'activity', result: 10, sum: 12 });
  assert.ok(host.now() < Date.parse('2026-01-02T00:00:00Z'), 'the cancelled day-long timer did not hold the orchestration');
  const bad = await host.waitForCompletion(await host.startNew('reusesTask'), 30_000);
  assert.equal(bad.runtimeStatus, 'Failed');
  assert.match(String(bad.output), /already scheduled task \(0:double\) into a new Task\.any\/Task\.all.*#574/);
});
