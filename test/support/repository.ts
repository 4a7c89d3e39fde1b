import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalKeyProvider, TEST_ARGON2 } from '../../shared/crypto';
import { Repository, type InitOptions, type Stores } from '../../shared/repo';
import { startTestStorage, type TestStorage } from './azurite';

export interface TestRepository {
  storage: TestStorage;
  repo: Repository;
  /** The local key file the repository's keys are wrapped with (open it again for a second instance). */
  keyFile: string;
  /** Stops Azurite and removes the key file's folder. */
  stop(): Promise<void>;
}

/**
 * A fresh Azurite and a repository in it, keys wrapped by a local key file in a temporary folder and
 * Argon2 at test cost. `stores` wraps the real stores (a fault injector, a request counter) when a test
 * needs to see or bend what the repository sends.
 */
export async function startTestRepository(
  options: Omit<InitOptions, 'argon2'> & { stores?: (storage: TestStorage) => Stores },
): Promise<TestRepository> {
  const { stores, ...init } = options;
  const storage = await startTestStorage();
  const dir = mkdtempSync(join(tmpdir(), `m365b-${init.name}-`));
  const keyFile = join(dir, 'local.key');
  const stop = async () => {
    await storage.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const wrapped = stores?.(storage) ?? { blobs: storage.blobs, tables: storage.tables };
    const repo = await Repository.init(wrapped, LocalKeyProvider.open(keyFile, { create: true }), { argon2: TEST_ARGON2, ...init });
    return { storage, repo, keyFile, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
