import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_ONLY_SETTINGS, SETTING_NAMES, TENANT_SECRET_PREFIX } from '../shared/config';
import { PACK_TAGS } from '../shared/repo/packWriter';

// No Bicep compiler can be installed here, so infra/ is checked statically: the resources,
// role assignments and lifecycle rule the deployment needs, and every setting the code reads.
const INFRA = join(__dirname, '..', '..', 'infra');
const files = [join(INFRA, 'main.bicep'), ...readdirSync(join(INFRA, 'modules')).map((f) => join(INFRA, 'modules', f))];
const bicep = Object.fromEntries(files.map((f) => [f.split('/').pop()!, readFileSync(f, 'utf8')]));
const all = Object.values(bicep).join('\n');

test('infra declares the storage account, Key Vault, Flex Consumption app on Node 22, identity and Application Insights', () => {
  for (const type of [
    'Microsoft.Storage/storageAccounts@',
    'Microsoft.Storage/storageAccounts/managementPolicies@',
    'Microsoft.KeyVault/vaults@',
    'Microsoft.KeyVault/vaults/keys@',
    'Microsoft.Web/serverfarms@',
    'Microsoft.Web/sites@',
    'Microsoft.Insights/components@',
    'Microsoft.Authorization/roleAssignments@',
  ])
    assert.ok(all.includes(`'${type}`), `a ${type} resource`);
  const storage = bicep['storage.bicep']!;
  assert.match(storage, /allowSharedKeyAccess: false/);
  const vault = bicep['keyvault.bicep']!;
  assert.match(vault, /enableRbacAuthorization: true/);
  assert.match(vault, /enablePurgeProtection: true/);
  assert.match(vault, /keyOps: \['wrapKey', 'unwrapKey'\]/);
  const app = bicep['functionapp.bicep']!;
  assert.match(app, /tier: 'FlexConsumption'/);
  assert.match(app, /runtime: \{ name: 'node', version: '22' \}/);
  assert.match(app, /identity: \{ type: 'SystemAssigned' \}/);
  assert.match(app, /@Microsoft\.KeyVault\(VaultName=/, 'tenant secrets as Key Vault references');
  const main = bicep['main.bicep']!;
  for (const m of ['storage', 'keyvault', 'monitoring', 'functionapp', 'roles']) assert.match(main, new RegExp(`modules/${m}\\.bicep`));
  const params = JSON.parse(readFileSync(join(INFRA, 'main.parameters.json'), 'utf8')) as { parameters: Record<string, unknown> };
  for (const p of Object.keys(params.parameters)) assert.match(main, new RegExp(`param ${p} `), `main.parameters.json names param ${p}`);
});

test('the lifecycle rule moves only tagged pack blobs to Archive, after a configurable number of days', () => {
  const storage = bicep['storage.bicep']!;
  const [tag, value] = Object.entries(PACK_TAGS)[0]!;
  assert.match(storage, new RegExp(`\\{ name: '${tag}', op: '==', value: '${value}' \\}[\\s\\S]*?tierToArchive: \\{ daysAfterModificationGreaterThan: archiveAfterDays \\}`));
  assert.doesNotMatch(storage, /prefixMatch: \[\]/, 'no rule without a filter');
  assert.match(bicep['main.bicep']!, /param archiveAfterDays int/);
});

test('least-privilege roles: blob, table and queue data, Key Vault crypto and secrets, tag writing', () => {
  const roles = bicep['roles.bicep']!;
  for (const [what, id] of [
    ['Storage Blob Data Contributor', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'],
    ['Storage Table Data Contributor', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'],
    ['Storage Queue Data Contributor', '974c5e8b-45b9-4653-ba55-5f855dd0fb88'],
    ['Key Vault Crypto User', '12338af0-0e69-4776-bea7-57ae8d297424'],
    ['Key Vault Secrets User', '4633458b-17de-408a-b874-0445c86b69e6'],
  ])
    assert.ok(roles.includes(id), what);
  assert.match(roles, /blobs\/tags\/write/);
  assert.doesNotMatch(all, /b7e6dc6d-f1e8-4753-8033-0f276bb0955b|8e3af657-a8ff-443c-a75c-2fe8c4bcb635/, 'no Owner / Storage Blob Data Owner');
});

test('every app setting the code reads in Azure is set by infra/ (one list shared by code and check)', () => {
  const app = bicep['functionapp.bicep']!;
  const set = new Set([...app.matchAll(/name: '([A-Z0-9_]+)'/g)].map((m) => m[1]!));
  const needed = Object.values(SETTING_NAMES).filter((n) => !LOCAL_ONLY_SETTINGS.has(n));
  assert.ok(needed.length >= 15);
  for (const n of needed) assert.ok(set.has(n), `${n} is set in functionapp.bicep`);
  assert.ok(app.includes(`'${TENANT_SECRET_PREFIX}`), 'tenant secret references use the prefix the code reads');
  assert.ok(set.has('AzureWebJobsStorage__accountName') || app.includes('AzureWebJobsStorage__accountName'));
});
