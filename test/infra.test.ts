import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_ONLY_SETTINGS, SETTING_NAMES, TENANT_RESTORE_SECRET_PREFIX, TENANT_SECRET_PREFIX } from '../shared/config';
import { PACK_TAGS } from '../shared/repo/packWriter';
import { GARBAGE_TAGS } from '../shared/repo/pruneTags';

// infra/ is compiled by the real Bicep CLI (.ci/install-bicep puts it in .cache/bicep/ once, from NuGet)
// and every assertion below reads the compiled ARM template, not the Bicep text.
const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'infra', 'main.bicep');

interface Resource {
  type: string;
  name: string;
  scope?: string;
  sku?: { name: string };
  properties?: Record<string, unknown> & { template?: Template };
  copy?: { name: string; count: string };
}
interface Template {
  parameters: Record<string, { type: string; defaultValue?: unknown; minValue?: number; maxValue?: number; allowedValues?: unknown[] }>;
  variables?: Record<string, unknown>;
  resources: Resource[];
  outputs?: Record<string, unknown>;
}

function compile(): { template?: Template; lint?: string; skip?: string } {
  const install = spawnSync('bash', [join(ROOT, '.ci', 'install-bicep')], { encoding: 'utf8' });
  if (install.status === 3) return { skip: `Bicep not checked: ${install.stderr.trim()} (install the .NET SDK to run this suite)` };
  if (install.status !== 0) throw new Error(`installing the Bicep CLI failed: ${install.stderr}`);
  const bicep = install.stdout.trim().split('\n').pop()!;
  const build = spawnSync(bicep, ['build', MAIN, '--stdout'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(build.status, 0, `bicep build failed:\n${build.stderr}`);
  const lint = spawnSync(bicep, ['lint', MAIN], { encoding: 'utf8' });
  assert.equal(lint.status, 0, `bicep lint failed:\n${lint.stdout}${lint.stderr}`);
  return { template: JSON.parse(build.stdout) as Template, lint: (lint.stdout + lint.stderr + build.stderr).trim() };
}

const compiled = compile();
const skip = compiled.skip ?? false;
const main = compiled.template!;
const moduleTemplate = (name: string): Template => {
  const d = main.resources.find((r) => r.type === 'Microsoft.Resources/deployments' && r.name === name);
  assert.ok(d?.properties?.template, `main.bicep deploys the module ${name}`);
  return d.properties.template;
};
const all = (t: Template): Resource[] => t.resources.flatMap((r) => [r, ...(r.properties?.template ? all(r.properties.template) : [])]);
const ofType = (t: Template, type: string) => all(t).filter((r) => r.type === type);
const one = (t: Template, type: string) => {
  const rs = ofType(t, type);
  assert.equal(rs.length, 1, `exactly one ${type}`);
  return rs[0]!;
};
type Rule = { name: string; definition: { filters: { blobTypes: string[]; blobIndexMatch?: { name: string; op: string; value: string }[] }; actions: Record<string, Record<string, Record<string, string | number>>> } };

test('infra/main.bicep builds and lints with zero errors and zero warnings (real Bicep CLI)', { skip }, () => {
  assert.equal(compiled.lint, '', `bicep printed diagnostics:\n${compiled.lint}`);
  assert.match(JSON.stringify(main.resources.map((r) => r.name)), /storage.*keyvault.*monitoring.*functionapp.*roles/);
});

test('infra declares the storage account, Key Vault, Flex Consumption app on Node 22, identity and Application Insights', { skip }, () => {
  for (const type of [
    'Microsoft.Storage/storageAccounts',
    'Microsoft.Storage/storageAccounts/managementPolicies',
    'Microsoft.KeyVault/vaults',
    'Microsoft.KeyVault/vaults/keys',
    'Microsoft.Web/serverfarms',
    'Microsoft.Web/sites',
    'Microsoft.Insights/components',
    'Microsoft.Authorization/roleAssignments',
  ])
    assert.ok(ofType(main, type).length > 0, `a ${type} resource`);
  const account = one(main, 'Microsoft.Storage/storageAccounts');
  assert.equal(account.properties!.allowSharedKeyAccess, false);
  assert.equal(account.properties!.allowBlobPublicAccess, false);
  const vault = one(main, 'Microsoft.KeyVault/vaults').properties!;
  assert.equal(vault.enableRbacAuthorization, true);
  assert.equal(vault.enablePurgeProtection, true);
  assert.deepEqual((one(main, 'Microsoft.KeyVault/vaults/keys').properties as { keyOps: string[] }).keyOps, ['wrapKey', 'unwrapKey']);
  assert.deepEqual(one(main, 'Microsoft.Web/serverfarms').sku, { tier: 'FlexConsumption', name: 'FC1' });
  const site = one(main, 'Microsoft.Web/sites') as Resource & { identity: { type: string } };
  assert.equal(site.identity.type, 'SystemAssigned');
  assert.deepEqual((site.properties!.functionAppConfig as { runtime: unknown }).runtime, { name: 'node', version: '22' });
  const params = JSON.parse(readFileSync(join(ROOT, 'infra', 'main.parameters.json'), 'utf8')) as { parameters: Record<string, unknown> };
  for (const p of Object.keys(params.parameters)) assert.ok(main.parameters[p], `main.parameters.json names param ${p}, which main.bicep declares`);
});

test('storage redundancy supports Archive: Standard_GRS by default; ZRS and GZRS refused with a reason', { skip }, () => {
  assert.equal(main.parameters.storageSku!.defaultValue, 'Standard_GRS');
  const storage = moduleTemplate('storage');
  const account = one(storage, 'Microsoft.Storage/storageAccounts');
  assert.equal(account.sku!.name, "[variables('checkedSkuName')]", 'the account takes the checked SKU');
  const check = String(storage.variables!.checkedSkuName);
  assert.match(check, /^\[if\(contains\(variables\('archiveCapableSkus'\), parameters\('skuName'\)\), parameters\('skuName'\), fail\(/);
  assert.match(check, /does not support the Archive tier/);
  assert.deepEqual(storage.variables!.archiveCapableSkus, ['Standard_LRS', 'Standard_GRS', 'Standard_RAGRS']);
});

test('pack container: blob versioning, version-level immutability for packImmutabilityDays, account CanNotDelete lock', { skip }, () => {
  const storage = moduleTemplate('storage');
  const blobService = one(storage, 'Microsoft.Storage/storageAccounts/blobServices');
  assert.equal(blobService.properties!.isVersioningEnabled, true);
  const containers = ofType(storage, 'Microsoft.Storage/storageAccounts/blobServices/containers');
  const packs = containers.find((c) => c.name.includes("format('{0}-packs', parameters('repositoryName'))"));
  assert.ok(packs, 'the pack container <repositoryName>-packs');
  assert.deepEqual(packs.properties!.immutableStorageWithVersioning, { enabled: true });
  const policy = one(storage, 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies');
  assert.match(policy.name, /-packs.*'default'\)\]$/);
  assert.equal(policy.properties!.immutabilityPeriodSinceCreationInDays, "[parameters('packImmutabilityDays')]");
  assert.equal(policy.properties!.allowProtectedAppendWrites, false);
  assert.equal(main.parameters.packImmutabilityDays!.defaultValue, 30);
  assert.equal(main.parameters.repositoryName!.defaultValue, 'm365backup');
  const account = one(storage, 'Microsoft.Storage/storageAccounts');
  assert.deepEqual(account.properties!.immutableStorageWithVersioning, { enabled: true }, 'every tenant repository can lock its blobs per version');
  const lock = one(storage, 'Microsoft.Authorization/locks');
  assert.equal(lock.properties!.level, 'CanNotDelete');
  assert.equal(lock.scope, "[resourceId('Microsoft.Storage/storageAccounts', parameters('name'))]");
});

test('lifecycle: tagged packs to Archive, restore zips and tagged garbage deleted, old versions expire', { skip }, () => {
  const rules = (one(main, 'Microsoft.Storage/storageAccounts/managementPolicies').properties as { policy: { rules: Rule[] } }).policy.rules;
  const byName = Object.fromEntries(rules.map((r) => [r.name, r.definition]));
  for (const r of rules) assert.ok(r.definition.filters.blobTypes.includes('blockBlob'), `${r.name} filters on block blobs`);
  const [tag, value] = Object.entries(PACK_TAGS)[0]!;
  assert.deepEqual(byName['packs-to-archive']!.filters.blobIndexMatch, [{ name: tag, op: '==', value }]);
  assert.deepEqual(byName['packs-to-archive']!.actions.baseBlob, { tierToArchive: { daysAfterModificationGreaterThan: "[parameters('archiveAfterDays')]" } });
  assert.deepEqual(byName['restore-zips-expire']!.filters.blobIndexMatch, [{ name: 'm365backup', op: '==', value: 'restore' }]);
  const [gTag, gValue] = Object.entries(GARBAGE_TAGS)[0]!;
  assert.deepEqual(byName['garbage-delete']!.filters.blobIndexMatch, [{ name: gTag, op: '==', value: gValue }]);
  assert.deepEqual(byName['garbage-delete']!.actions.baseBlob, {
    delete: { daysAfterModificationGreaterThan: "[add(parameters('packImmutabilityDays'), parameters('garbageDeleteAfterDays'))]" },
  });
  assert.deepEqual(Object.keys(byName['old-versions-expire']!.actions), ['version'], 'the version rule never touches current blobs');
  for (const r of rules) assert.ok(r.definition.filters.blobIndexMatch || r.name === 'old-versions-expire', `${r.name}: no delete or tier rule without a tag filter`);
});

test('least-privilege roles: blob, table and queue data, Key Vault crypto and secrets, tag writing', { skip }, () => {
  const roles = moduleTemplate('roles');
  const ids = JSON.stringify(roles.variables!.roles);
  for (const [what, id] of [
    ['Storage Blob Data Contributor', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'],
    ['Storage Table Data Contributor', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'],
    ['Storage Queue Data Contributor', '974c5e8b-45b9-4653-ba55-5f855dd0fb88'],
    ['Key Vault Crypto User', '12338af0-0e69-4776-bea7-57ae8d297424'],
    ['Key Vault Secrets User', '4633458b-17de-408a-b874-0445c86b69e6'],
  ])
    assert.ok(ids.includes(id), what);
  const assignments = ofType(roles, 'Microsoft.Authorization/roleAssignments');
  assert.equal(assignments.length, 3, 'storage roles (a copy of 3), the tag writer, vault roles (a copy of 2)');
  assert.deepEqual(assignments.map((a) => a.copy?.count ?? 1), ['[length(createArray(variables(\'roles\').storageBlobDataContributor, variables(\'roles\').storageTableDataContributor, variables(\'roles\').storageQueueDataContributor))]', 1, '[length(createArray(variables(\'roles\').keyVaultCryptoUser, variables(\'roles\').keyVaultSecretsUser))]']);
  for (const a of assignments) assert.equal(a.properties!.principalType, 'ServicePrincipal');
  const custom = one(roles, 'Microsoft.Authorization/roleDefinitions').properties as { permissions: { actions: string[]; dataActions: string[] }[] };
  assert.deepEqual(custom.permissions.map((p) => [p.actions, p.dataActions]), [[[], ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/write']]]);
  assert.doesNotMatch(JSON.stringify(main), /b7e6dc6d-f1e8-4753-8033-0f276bb0955b|8e3af657-a8ff-443c-a75c-2fe8c4bcb635/, 'no Owner / Storage Blob Data Owner');
});

test('every app setting the code reads in Azure is set by infra/ (one list shared by code and check)', { skip }, () => {
  const app = moduleTemplate('functionapp');
  const settings = String(app.variables!.appSettings);
  const set = new Set([...settings.matchAll(/createObject\('name', '([A-Za-z0-9_]+)'/g)].map((m) => m[1]!));
  const needed = Object.values(SETTING_NAMES).filter((n) => !LOCAL_ONLY_SETTINGS.has(n));
  assert.ok(needed.length >= 15);
  for (const n of needed) assert.ok(set.has(n), `${n} is set in the compiled app settings`);
  assert.ok(set.has('AzureWebJobsStorage__accountName'));
  assert.match(settings, /createObject\('name', 'M365_BACKUP_REPOSITORY', 'value', parameters\('repositoryName'\)\)/, 'the app uses the repository whose pack container is immutable');
  const copy = (app.variables!.copy as { name: string; input: { name: string; value: string } }[]).find((c) => c.name === 'tenantSecretSettings')!;
  assert.ok(copy.input.name.includes(`'${TENANT_SECRET_PREFIX}{0}'`), 'tenant secret references use the prefix the code reads');
  assert.match(copy.input.value, /@Microsoft\.KeyVault\(VaultName=/);
  const restoreCopy = (app.variables!.copy as { name: string; input: { name: string; value: string } }[]).find((c) => c.name === 'tenantRestoreSecretSettings')!;
  assert.ok(restoreCopy.input.name.includes(`'${TENANT_RESTORE_SECRET_PREFIX}{0}'`), 'restore-app secret references use the prefix the code reads');
});
