import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startM365Suite, type M365Suite, type SuiteTenant } from './support/m365';
import { GroupEditor } from '../simulator/tenant/groups';
import { TeamEditor, type SimChannel, type SimTeam } from '../simulator/tenant/teams';
import type { TenantBackupReport } from '../shared/backup/m365/tenantBackup';

/**
 * Teams' limit of 60 requests a minute per app per tenant, shared by channel message delta and
 * replies, enforced by the simulator (scaled: 10 per second here). The product's gate keeps the run
 * under it: a day-two backup of 30 changed threads (32 limited requests) gets no 429 at all; with
 * the gate opened far above the limit the simulator does answer 429, and the retry layer still
 * completes the run (no unhandled 429).
 */
const SHAPE = { users: 1, filesPerUser: 1, maxFileBytes: 1000, messagesPerUser: 1, eventsPerUser: 0, contactsPerUser: 0 };
const LIMIT = { budget: 10, windowMs: 1000 };
const GATED = { TEAMS_MESSAGES_PER_MINUTE: String(LIMIT.budget), TEAMS_MESSAGES_WINDOW_MS: String(LIMIT.windowMs) };
const THREADS = 30;

const report = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as TenantBackupReport;

describe('Teams: the shared 60/min limit of message delta and replies', () => {
  let suite: M365Suite;
  let t: SuiteTenant;
  let team: SimTeam;
  let channel: SimChannel;
  let teams: TeamEditor;

  before(async () => {
    suite = await startM365Suite([{ name: 'tailspin', seed: 81, shape: SHAPE }], { teamsLimits: { concurrency: 1_000_000, ...LIMIT } });
    t = suite.tenants.get('tailspin')!;
    const g = new GroupEditor(t.tenant).addGroup({ displayName: 'Busy team', mailNickname: 'busy', isTeam: true });
    teams = new TeamEditor(t.tenant);
    team = teams.addTeam({ id: g.id, displayName: 'Busy team' });
    channel = teams.channel(team, 'General');
    for (let i = 0; i < THREADS; i++) {
      const root = teams.post(channel, { from: { id: 'a', displayName: 'Ann' }, html: `<p>thread ${i}</p>`, created: new Date(Date.UTC(2026, 4, 1, 9, i)).toISOString() });
      teams.post(channel, { from: { id: 'b', displayName: 'Bob' }, html: `<p>reply to ${i}</p>`, replyTo: root.id, created: new Date(Date.UTC(2026, 4, 1, 10, i)).toISOString() });
    }
    assert.equal((await suite.addTenant('tailspin')).code, 0);
    const first = await suite.cli(['backup', '--tenant', 'tailspin', '--service', 'teams', '--json'], t.password, GATED);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(suite.sim.stats.requests.get('channel.replies') ?? 0, 0, 'the first backup reads replies expanded with the full listing');
  });
  after(async () => {
    await suite?.stop();
  });

  const replyToEveryThread = (text: string) => {
    for (const root of [...channel.messages.values()].filter((m) => !m.replyToId)) teams.post(channel, { from: { id: 'c', displayName: 'Cy' }, html: `<p>${text}</p>`, replyTo: root.id });
  };

  test('with the gate: every changed thread read, not one 429', async () => {
    replyToEveryThread('day two');
    suite.sim.resetStats();
    const before = suite.sim.teamsThrottled();
    const r = await suite.cli(['backup', '--tenant', 'tailspin', '--service', 'teams', '--json'], t.password, GATED);
    assert.equal(r.code, 0, r.stderr);
    const limited = (suite.sim.stats.requests.get('channel.replies') ?? 0) + (suite.sim.stats.requests.get('channel.delta') ?? 0);
    assert.equal(suite.sim.stats.requests.get('channel.replies'), THREADS, 'the replies of each changed thread, once');
    assert.ok(limited > 3 * LIMIT.budget, `more limited requests (${limited}) than three windows hold: the gate had to pace them`);
    assert.equal(suite.sim.teamsThrottled() - before, 0, 'no 429 from the Teams limit');
    const rep = report(r.stdout);
    assert.equal(rep.status, 'complete');
    assert.equal(rep.users.find((u) => u.userPrincipalName === 'Busy team')!.services[0]!.fetched, 2 * THREADS, 'the 30 new replies and their 30 roots (each reported changed by the delta) stored');
  });

  test('without the gate the simulator throttles, and the retry layer still completes the run', async () => {
    replyToEveryThread('day three');
    const before = suite.sim.teamsThrottled();
    const r = await suite.cli(['backup', '--tenant', 'tailspin', '--service', 'teams', '--json'], t.password, { TEAMS_MESSAGES_PER_MINUTE: '100000', TEAMS_MESSAGES_WINDOW_MS: '1000' });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(suite.sim.teamsThrottled() - before > 0, 'the simulator enforces the limit');
    assert.equal(report(r.stdout).status, 'complete', 'every 429 was retried after Retry-After');
    const target = join(suite.work, 'busy');
    assert.equal((await suite.cli(['restore', '--tenant', 'tailspin', '--team', 'Busy team', target], t.password)).code, 0);
    assert.equal(readdirSync(join(target, 'Teams', 'Busy team', 'General', 'messages')).length, THREADS * 4, 'every root and reply once');
  });
});

/**
 * Issue 11: the Teams window is held in the tenant's budget rows, not per process. Two processes
 * (as two Function App instances) back up different teams of one tenant at the same time, each
 * alone able to send far more than the limit; together they get no 429 and the simulator never
 * counts more than the limit in any sliding window.
 */
describe('Teams: the 60/min gate shared across processes (two processes, different teams, one tenant)', () => {
  const TEAMS = 4;
  const SHARED_THREADS = 12;
  const WORKER = join(__dirname, 'support', 'sharedBudgetWorker.js');
  let suite: M365Suite;

  const runWorker = (env: NodeJS.ProcessEnv, args: string[]) =>
    new Promise<{ outcomes: string[]; failures: string[]; wallMs: number; started: number }>((resolve, reject) => {
      const child = spawn(process.execPath, [WORKER, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`worker exited ${code}: ${err.slice(-2000)}`))));
    });

  before(async () => {
    suite = await startM365Suite([{ name: 'fabrikam', seed: 83, shape: SHAPE }], { teamsLimits: { concurrency: 1_000_000, ...LIMIT } });
    const t = suite.tenants.get('fabrikam')!;
    const teams = new TeamEditor(t.tenant);
    const channels: SimChannel[] = [];
    for (let k = 0; k < TEAMS; k++) {
      const g = new GroupEditor(t.tenant).addGroup({ displayName: `Team ${k}`, mailNickname: `team${k}`, isTeam: true });
      const ch = teams.channel(teams.addTeam({ id: g.id, displayName: `Team ${k}` }), 'General');
      channels.push(ch);
      for (let i = 0; i < SHARED_THREADS; i++) {
        const root = teams.post(ch, { from: { id: 'a', displayName: 'Ann' }, html: `<p>${k}/${i}</p>`, created: new Date(Date.UTC(2026, 4, 1, 9, i)).toISOString() });
        teams.post(ch, { from: { id: 'b', displayName: 'Bob' }, html: `<p>re ${k}/${i}</p>`, replyTo: root.id, created: new Date(Date.UTC(2026, 4, 1, 10, i)).toISOString() });
      }
    }
    assert.equal((await suite.addTenant('fabrikam')).code, 0);
    // Day one reads replies with the full listing (no limited request); day two reads each changed thread's replies.
    const first = await suite.cli(['backup', '--tenant', 'fabrikam', '--service', 'teams', '--json'], t.password, GATED);
    assert.equal(first.code, 0, first.stderr);
    for (const ch of channels) for (const root of [...ch.messages.values()].filter((m) => !m.replyToId)) teams.post(ch, { from: { id: 'c', displayName: 'Cy' }, html: '<p>day two</p>', replyTo: root.id });
  });
  after(async () => {
    await suite?.stop();
  });

  test('together: not one 429, and no sliding window at the simulator holds more than the limit', async () => {
    const env = suite.processEnv({ ...GATED, GRAPH_SHARED_BUDGETS: process.env.SHARED_BUDGETS_MODE ?? 'on' });
    const roster = (await runWorker(env, ['begin', 'fabrikam', 'teams2p', 'teams'])) as unknown as { users: number };
    suite.sim.resetStats();
    const before = suite.sim.teamsThrottled();
    const firstArrival = suite.sim.teamsArrivals().length;
    const all = Array.from({ length: roster.users }, (_, i) => i);
    // Each process gets every other roster entry (entries without teams are skipped): two teams each.
    const [a, b] = await Promise.all([0, 1].map((h) => runWorker(env, ['units', 'fabrikam', 'teams2p', all.filter((i) => i % 2 === h).join(','), '4', 'teams'])));
    const arrivals = suite.sim.teamsArrivals().slice(firstArrival).sort((x, y) => x - y);
    let most = 0;
    for (let i = 0, j = 0; i < arrivals.length; i++) {
      while (arrivals[i]! - arrivals[j]! >= LIMIT.windowMs) j++;
      most = Math.max(most, i - j + 1);
    }
    const summary = `${arrivals.length} limited requests, at most ${most} in one ${LIMIT.windowMs} ms window, ${suite.sim.teamsThrottled() - before} answered 429; outcomes ${JSON.stringify([a!.outcomes, b!.outcomes])}`;
    console.log(`# ${summary}`);
    assert.equal(a!.outcomes.length + b!.outcomes.length, TEAMS, summary);
    for (const w of [a!, b!]) assert.deepEqual(w.failures, [], summary);
    assert.ok(arrivals.length > 3 * LIMIT.budget, `more limited requests than three windows hold: the shared gate had to pace them (${summary})`);
    const overlap = Math.min(a!.started + a!.wallMs, b!.started + b!.wallMs) - Math.max(a!.started, b!.started);
    assert.ok(overlap > 0, `the two processes ran at the same time (${summary})`);
    assert.equal(suite.sim.teamsThrottled() - before, 0, summary);
    assert.ok(most <= LIMIT.budget, summary);
  });
});
