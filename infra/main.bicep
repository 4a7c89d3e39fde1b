// m365-backup: the whole deployment in one resource group.
//   az deployment group create -g <rg> -f infra/main.bicep -p infra/main.parameters.json
targetScope = 'resourceGroup'

@description('Short prefix for resource names (lowercase letters and digits).')
@minLength(3)
@maxLength(11)
param namePrefix string

param location string = resourceGroup().location

@description('Days after which pack blobs move to the Archive tier (pack indexes and metadata stay Hot).')
@minValue(1)
param archiveAfterDays int = 30

@description('Storage redundancy: Standard_GRS (default), Standard_RAGRS or Standard_LRS. ZRS and GZRS are refused: they have no Archive tier.')
param storageSku string = 'Standard_GRS'

@description('Repository name (3-40 lowercase letters and digits); its packs live in the container <name>-packs.')
param repositoryName string = 'm365backup'

@description('Days every pack version stays immutable (version-level WORM). Keep it at least the longest retention you set plus a margin.')
@minValue(1)
@maxValue(146000)
param packImmutabilityDays int = 30

@description('Days after its lock ends that a garbage-tagged blob (pruned by the product) is deleted by the lifecycle rule.')
@minValue(1)
param garbageDeleteAfterDays int = 1

@description('NCRONTAB of the nightly backup (UTC).')
param backupSchedule string = '0 0 2 * * *'

@description('NCRONTAB of the weekly prune (UTC): forget by each tenant\'s retention policy, then prune.')
param pruneSchedule string = '0 0 3 * * 0'

@description('Storage price per GiB-month by tier for cost figures, e.g. "Hot=0.0458,Cool=0.025,Cold=0.0081,Archive=0.0036"; empty = the built-in defaults.')
param storagePrices string = ''

@description('Users of one tenant backed up at once.')
param userParallelism int = 8

@description('Rehydration priority when a restore needs archived packs: Standard or High.')
@allowed(['Standard', 'High'])
param rehydratePriority string = 'Standard'

@description('Tenant client secrets kept in Key Vault, exposed to the app as Key Vault references: [{ tenant, secretName, restoreSecretName? }] (restoreSecretName: the restore-only app registration).')
param tenantSecrets array = []

@description('Flex Consumption instance memory (MB).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

param maximumInstanceCount int = 40

@description('Client id of the Entra ID app registration for the web console sign-in (App Service Authentication); empty = no sign-in, function keys only.')
param consoleAuthClientId string = ''

@description('Name of the Key Vault secret holding that app registration\'s client secret; empty = id_token flow.')
param consoleAuthClientSecretName string = ''

@description('E-mail address for the Azure Monitor alert on failed, partial or missed backups (empty: no receiver).')
param alertEmail string = ''

var suffix = uniqueString(resourceGroup().id, namePrefix)
var storageName = toLower('${namePrefix}st${take(suffix, 10)}')
var vaultName = '${namePrefix}-kv-${take(suffix, 8)}'
var appName = '${namePrefix}-func-${take(suffix, 8)}'
var wrapKeyName = 'm365-backup-wrap'

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: storageName
    location: location
    archiveAfterDays: archiveAfterDays
    skuName: storageSku
    repositoryName: repositoryName
    packImmutabilityDays: packImmutabilityDays
    garbageDeleteAfterDays: garbageDeleteAfterDays
  }
}

module vault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: vaultName
    location: location
    wrapKeyName: wrapKeyName
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    namePrefix: namePrefix
    location: location
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    namePrefix: namePrefix
    location: location
    alertEmail: alertEmail
  }
  dependsOn: [ monitoring ]
}

module app 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: appName
    location: location
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    vaultUri: vault.outputs.uri
    vaultName: vault.outputs.name
    wrapKeyName: wrapKeyName
    appInsightsConnectionString: monitoring.outputs.connectionString
    backupSchedule: backupSchedule
    pruneSchedule: pruneSchedule
    packLockDays: packImmutabilityDays
    storagePrices: storagePrices
    userParallelism: userParallelism
    rehydratePriority: rehydratePriority
    tenantSecrets: tenantSecrets
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    repositoryName: repositoryName
    authClientId: consoleAuthClientId
    authClientSecretName: consoleAuthClientSecretName
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: app.outputs.principalId
    storageAccountName: storage.outputs.name
    vaultName: vault.outputs.name
  }
}

output functionAppName string = app.outputs.name
output functionAppUrl string = app.outputs.url
output storageAccountName string = storage.outputs.name
output packContainerName string = storage.outputs.packContainerName
output keyVaultUri string = vault.outputs.uri
