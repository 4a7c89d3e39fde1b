import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStorage, type TestStorage } from './azurite';
import type { CliEnv } from './cli';

/** What most suites need: a real Azurite, a temporary folder, and a CLI environment pointing at both. */
export interface CliSuite {
  storage: TestStorage;
  work: string;
  env: CliEnv;
  stop(): Promise<void>;
}

export async function startCliSuite(name: string, password?: string): Promise<CliSuite> {
  const storage = await startTestStorage();
  const work = mkdtempSync(join(tmpdir(), `m365b-${name}-`));
  return {
    storage,
    work,
    env: { connectionString: storage.connectionString, dataDir: join(work, 'data'), password },
    stop: async () => {
      await storage.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
