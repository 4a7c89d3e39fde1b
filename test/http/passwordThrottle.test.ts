import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestStorage } from '../support/azurite';
import { startTestRepository, type TestRepository } from '../support/repository';
import { LocalKeyProvider } from '../../shared/crypto';
import { isBackupError } from '../../shared/errors';
import { Repository } from '../../shared/repo';
import { DEFAULT_PASSWORD_THROTTLE, type PasswordThrottlePolicy, PASSWORD_THROTTLE_PK, PASSWORD_THROTTLE_RK, readPasswordThrottle, throttleDelaySeconds, withPasswordThrottle } from '../../shared/repo/passwordThrottle';

const PASSWORD = 'the password of the repository';
/** A wait far longer than the test, so the count, not the clock, decides. */
const LONG: PasswordThrottlePolicy = { freeFailures: 3, baseDelaySeconds: 600, maxDelaySeconds: 900 };

describe('the password throttle (shared/repo/passwordThrottle.ts) on real storage', () => {
  let setup: TestRepository | undefined;
  let storage: TestStorage;
  let keyFile: string;
  const open = async () => Repository.open({ blobs: storage.blobs, tables: storage.tables }, LocalKeyProvider.open(keyFile), 'throttled');

  before(async () => {
    setup = await startTestRepository({ name: 'throttled', password: PASSWORD });
    ({ storage, keyFile } = setup);
  });
  after(async () => {
    await setup?.stop();
  });

  test('the delay: none for the first failures, then 1 s doubling per failure, capped at 15 minutes', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 13, 40].map((f) => throttleDelaySeconds(DEFAULT_PASSWORD_THROTTLE, f)), [0, 0, 1, 2, 4, 8, 900, 900]);
  });

  test('parallel wrong guesses through separate instances cannot slip past the count: at most 3 are checked', async () => {
    const instances = await Promise.all(Array.from({ length: 4 }, () => open()));
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const repo = instances[i % instances.length]!;
        return withPasswordThrottle(repo, () => repo.unlock(`guess ${i}`), LONG).then(
          () => 'opened',
          (e: unknown) => (isBackupError(e) ? e.code : String(e)),
        );
      }),
    );
    assert.equal(outcomes.filter((o) => o === 'WRONG_PASSWORD').length, 3, outcomes.join(', '));
    assert.equal(outcomes.filter((o) => o === 'THROTTLED').length, 9, outcomes.join(', '));
    const state = await readPasswordThrottle(instances[0]!);
    assert.equal(state.failures, 3);
    // The right password within the wait is refused too, without being checked.
    let checked = false;
    await assert.rejects(
      withPasswordThrottle(
        instances[1]!,
        async () => {
          checked = true;
        },
        LONG,
      ),
      (e: unknown) => isBackupError(e, 'THROTTLED') && (e.retryAfterSeconds ?? 0) > 500,
    );
    assert.equal(checked, false);
    await storage.tables.delete(instances[0]!.layout.configTable, PASSWORD_THROTTLE_PK, PASSWORD_THROTTLE_RK); // an admin's reset
  });

  test('the wait runs from the failure; after it the right password works and clears the count', async () => {
    const repo = await open();
    for (let i = 1; i <= 3; i++) await assert.rejects(withPasswordThrottle(repo, () => repo.unlock(`wrong ${i}`)), (e: unknown) => isBackupError(e, 'WRONG_PASSWORD'));
    const state = await readPasswordThrottle(repo);
    assert.equal(state.failures, 3);
    await new Promise((r) => setTimeout(r, state.until!.getTime() - Date.now() + 50));
    assert.ok(await withPasswordThrottle(repo, () => repo.unlock(PASSWORD)));
    assert.equal((await readPasswordThrottle(repo)).failures, 0);
    assert.equal(await storage.tables.get(repo.layout.configTable, PASSWORD_THROTTLE_PK, PASSWORD_THROTTLE_RK), undefined);
  });

  test('a failure that is not a wrong password gives the attempt back; an altered row counts as the free failures used up', async () => {
    const repo = await open();
    await assert.rejects(withPasswordThrottle(repo, () => repo.unlock('one wrong')), (e: unknown) => isBackupError(e, 'WRONG_PASSWORD'));
    await assert.rejects(
      withPasswordThrottle(repo, async () => {
        throw new Error('storage went away');
      }),
      /storage went away/,
    );
    assert.equal((await readPasswordThrottle(repo)).failures, 1, 'only the wrong password counted');
    // Someone edits the row to reset the count: the MAC no longer verifies, and the next wrong password waits.
    const table = repo.layout.configTable;
    const row = (await storage.tables.get(table, PASSWORD_THROTTLE_PK, PASSWORD_THROTTLE_RK))!;
    await storage.tables.upsert(table, { ...row, failures: 0 });
    assert.equal((await readPasswordThrottle(repo)).altered, true);
    await assert.rejects(withPasswordThrottle(repo, () => repo.unlock('after the edit')), (e: unknown) => isBackupError(e, 'WRONG_PASSWORD') && /accepted in 2 s/.test(e.message));
    await assert.rejects(withPasswordThrottle(repo, () => repo.unlock(PASSWORD)), (e: unknown) => isBackupError(e, 'THROTTLED'));
  });
});
