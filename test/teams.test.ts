import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
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
