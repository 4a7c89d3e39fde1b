/**
 * Runs init -> backup -> restore -> change-password with keys in a Key Vault (the fake), through the
 * real @azure/keyvault-keys SDK over HTTPS. Started by keyVault.test.ts as a child process, because
 * NODE_EXTRA_CA_CERTS (trusting the fake's certificate) is read only when Node starts.
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import { KeyVaultProvider, TEST_ARGON2 } from '../../shared/crypto';
import { Repository } from '../../shared/repo';
import { azureStores } from '../../shared/storage';
import { backupFolder } from '../../shared/backup';
import { restoreFolder } from '../../shared/restore';
import { isBackupError } from '../../shared/errors';

const scopesSeen = new Set<string>();
const credential: TokenCredential = {
  async getToken(scopes): Promise<AccessToken> {
    for (const s of [scopes].flat()) scopesSeen.add(s);
    return { token: 'test-access-token', expiresOnTimestamp: Date.now() + 3600_000 };
  },
};

async function main(): Promise<void> {
  const [vaultUrl, connectionString, source, target] = process.argv.slice(2) as [string, string, string, string];
  const connection = { kind: 'connectionString' as const, connectionString };
  const stores = azureStores(connection);
  const provider = () => new KeyVaultProvider({ vaultUrl, keyName: 'm365-backup-wrap', credential, createIfMissing: true });

  await Repository.init(stores, provider(), { name: 'kvrepo', password: 'vault password 1', argon2: TEST_ARGON2 });
  const writer = await Repository.open(stores, provider(), 'kvrepo');
  const backup = await backupFolder(writer, { partition: 'kv', source });
  const reader = await Repository.open(stores, provider(), 'kvrepo');
  const restored = await restoreFolder(reader, await reader.unlock('vault password 1'), { partition: 'kv', snapshot: 'latest', target });
  await reader.changePassword('vault password 1', 'vault password 2', TEST_ARGON2);
  let oldRejected = false;
  try {
    await (await Repository.open(stores, provider(), 'kvrepo')).unlock('vault password 1');
  } catch (e) {
    oldRejected = isBackupError(e, 'WRONG_PASSWORD');
  }
  await (await Repository.open(stores, provider(), 'kvrepo')).unlock('vault password 2');
  let wrongKey = '';
  try {
    await Repository.open(stores, new KeyVaultProvider({ vaultUrl, keyName: 'no-such-key', credential }), 'kvrepo');
  } catch (e) {
    wrongKey = (e as Error).message;
  }
  console.log(JSON.stringify({ items: backup.snapshot.stats.items, files: restored.files, oldRejected, wrongKey, scopes: [...scopesSeen] }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
