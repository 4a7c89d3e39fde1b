/**
 * A prune that kills itself with SIGKILL at a chosen point of its repack (test/pruneRepack.test.ts):
 * `node repackCrashChild.js <connection string> <key file> <repository> <password> <point> <now ms>`,
 * point = `pack:N` (once the Nth new pack is indexed) or `phase:<PrunePhase>`. Exits 0 when the
 * point never came.
 */
import { LocalKeyProvider } from '../../../shared/crypto';
import { prune, Repository } from '../../../shared/repo';
import { azureStores } from '../../../shared/storage';

async function main(): Promise<void> {
  const [connectionString, keyFile, name, password, point, nowText] = process.argv.slice(2) as [string, string, string, string, string, string];
  const repo = await Repository.open(azureStores({ kind: 'connectionString', connectionString }), LocalKeyProvider.open(keyFile), name);
  const key = await repo.unlock(password);
  const die = () => process.kill(process.pid, 'SIGKILL');
  let packs = 0;
  await prune(repo, {
    marginMs: 0,
    maxUnused: 0,
    now: () => Number(nowText),
    privateKey: async () => key,
    onRepackPack: () => {
      if (point === `pack:${++packs}`) die();
    },
    onPhase: (p) => {
      if (point === `phase:${p}`) die();
    },
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
