/**
 * A prune that kills itself with SIGKILL at a chosen point of its repack (test/pruneRepack.test.ts):
 * `node repackCrashChild.js <connection string> <key file> <repository> <password> <point> <now ms>`,
 * point = `pack:N` (once the Nth new pack is indexed), `phase:<PrunePhase>`, `write:N` (as the Nth
 * storage-changing request is about to be sent, other requests possibly in flight: a crash at any
 * moment), or `count` (no kill: prints the number of storage-changing requests of the whole prune).
 * Exits 0 when the point never came.
 */
import { LocalKeyProvider } from '../../../shared/crypto';
import { prune, Repository } from '../../../shared/repo';
import { azureStores, type BlobStore, type TableStore } from '../../../shared/storage';

/** Methods of the storage contract that change something (every other one only reads). */
const WRITES = new Set(['ensureContainer', 'deleteContainer', 'putBlob', 'stageBlock', 'commitBlocks', 'deleteBlob', 'setTags', 'setTier', 'setImmutability', 'removeImmutability', 'setLegalHold', 'ensureTable', 'deleteTable', 'create', 'upsert', 'update', 'merge', 'delete', 'batch']);

/** The store, with `beforeWrite` called before each storage-changing request. */
function watched<T extends BlobStore | TableStore>(store: T, beforeWrite: () => void): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (WRITES.has(String(prop))) beforeWrite();
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

async function main(): Promise<void> {
  const [connectionString, keyFile, name, password, point, nowText] = process.argv.slice(2) as [string, string, string, string, string, string];
  const die = () => process.kill(process.pid, 'SIGKILL');
  let writes = 0;
  let counting = false;
  const stores = azureStores({ kind: 'connectionString', connectionString });
  const onWrite = () => {
    if (counting && point === `write:${++writes}`) die();
  };
  const repo = await Repository.open({ blobs: watched(stores.blobs, onWrite), tables: watched(stores.tables, onWrite) }, LocalKeyProvider.open(keyFile), name);
  const key = await repo.unlock(password);
  let packs = 0;
  counting = true; // only the prune's own requests (not opening and unlocking)
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
  if (point === 'count') console.log(writes);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
