import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installFunctionsCore, LocalDurableHost } from '../shared/local/durable';
import type { Service, ServiceOutcome } from '../shared/m365';

/**
 * The tenant orchestration's fan-out, through the local host's real durable-functions replay, with
 * stand-in activities (no storage, no Graph: this is about scheduling only). One user is slow.
 */
installFunctionsCore();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const df = require('durable-functions') as typeof import('durable-functions');
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../functions/backupOrchestrators');

const USERS = 40;
const PARALLELISM = 4;
const SLOW_USER = 0;
/** The slow user's mailbox finishes only once this many other users have finished (or after 60 s: then the test fails). */
const FINISHED_WHILE_SLOW = 3 * PARALLELISM;
const UNIT_MS = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const units: { index: number; service: Service; start: number; end: number }[] = [];
let usersInFlight = 0;
let peakUsersInFlight = 0;
const userUnitsOpen = new Map<number, number>();
let finished: { totals: { users: number; services: number } } | undefined;
let othersFinished = 0;
let releaseSlow: () => void = () => undefined;
const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));

df.app.activity('beginBackupRun', { handler: () => ({ users: USERS }) });
df.app.activity('userServices', { handler: (input: { index: number; services: Service[] }) => (input.index % 10 === 9 ? input.services.filter((s) => s !== 'onedrive') : input.services) });
df.app.activity('backupUserService', {
  handler: async (input: { index: number; service: Service; unit: number }): Promise<ServiceOutcome & { more: boolean }> => {
    const open = userUnitsOpen.get(input.index) ?? 0;
    if (open === 0) peakUsersInFlight = Math.max(peakUsersInFlight, ++usersInFlight);
    userUnitsOpen.set(input.index, open + 1);
    const start = Date.now();
    if (input.index === SLOW_USER && input.service === 'mail') await Promise.race([slowReleased, sleep(60_000)]);
    else await sleep(UNIT_MS);
    if (input.index !== SLOW_USER && input.service === 'contacts' && ++othersFinished >= FINISHED_WHILE_SLOW) releaseSlow();
    units.push({ index: input.index, service: input.service, start, end: Date.now() });
    userUnitsOpen.set(input.index, userUnitsOpen.get(input.index)! - 1);
    if (userUnitsOpen.get(input.index) === 0) usersInFlight--;
    // Mail of every fourth user needs a second work unit.
    const more = input.service === 'mail' && input.index % 4 === 1 && input.unit === 1;
    return { service: input.service, status: 'complete', snapshot: input.unit, items: 1, fetched: 1, fetchedBytes: 10, removed: 0, failed: 0, more };
  },
});
df.app.activity('finishBackupRun', {
  handler: (input: { totals: { users: number; services: number } }) => {
    finished = input;
    return { status: 'complete' };
  },
});

test('users run in a sliding window (a slow user stalls no one), OneDrive beside the Exchange lane, every service once, counts add up', async () => {
  const host = new LocalDurableHost({ clock: 'real', maxConcurrentActivities: 16 });
  const services: Service[] = ['onedrive', 'mail', 'calendar', 'contacts'];
  const id = await host.startNew('backupTenant', { input: { tenant: 't', services, parallelism: PARALLELISM, runId: 'run1' } });
  const s = await host.waitForCompletion(id, 120_000);
  assert.equal(s.runtimeStatus, 'Completed', String(s.output));
  const out = s.output as { status: string; totals: { users: number; services: number; items: number } };
  assert.equal(out.status, 'complete');
  const expectedServices = USERS * 4 - USERS / 10;
  assert.equal(out.totals.users, USERS);
  assert.equal(out.totals.services, expectedServices);
  assert.deepEqual(finished?.totals.users, USERS);

  // Every (user, service) ran, its first unit once; the two-unit mail services ran twice.
  const firsts = new Map<string, number>();
  for (const u of units) firsts.set(`${u.index}:${u.service}`, (firsts.get(`${u.index}:${u.service}`) ?? 0) + 1);
  assert.equal(firsts.size, expectedServices);
  for (const [k, n] of firsts) assert.equal(n, Number(k.split(':')[0]) % 4 === 1 && k.endsWith(':mail') ? 2 : 1, k);

  // The window holds at most PARALLELISM users (ranges run their users one after another).
  assert.ok(peakUsersInFlight <= PARALLELISM, `at most ${PARALLELISM} users at once, saw ${peakUsersInFlight}`);

  // Exchange services in order, OneDrive beside them.
  for (let i = 0; i < USERS; i++) {
    const of = (svc: Service) => units.filter((u) => u.index === i && u.service === svc).sort((a, b) => a.start - b.start);
    const [mail, cal, con] = [of('mail'), of('calendar'), of('contacts')];
    assert.ok(mail.at(-1)!.end <= cal[0]!.start && cal.at(-1)!.end <= con[0]!.start, `user ${i}: mail, calendar, contacts one after another`);
  }
  const slowMail = units.find((u) => u.index === SLOW_USER && u.service === 'mail')!;
  const slowDrive = units.find((u) => u.index === SLOW_USER && u.service === 'onedrive')!;
  assert.ok(slowDrive.end <= slowMail.end, 'OneDrive ran beside the slow mailbox, not after it');

  // While the slow mailbox ran, the other slots kept taking users: far more than one wave's worth finished.
  const doneMeanwhile = new Set(units.filter((u) => u.index !== SLOW_USER && u.service === 'contacts' && u.end <= slowMail.end).map((u) => u.index));
  assert.ok(doneMeanwhile.size >= FINISHED_WHILE_SLOW, `${doneMeanwhile.size} users finished while the slow one ran (waves would allow ${PARALLELISM - 1})`);

  // The orchestration's own history stays small: ~2 events per range plus polls, no user list.
  assert.ok(host.history(id).length < 400, `backupTenant history: ${host.history(id).length} events`);
  assert.deepEqual(host.warnings, []);
});
