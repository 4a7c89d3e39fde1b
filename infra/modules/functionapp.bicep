// The Function App on Flex Consumption (Linux, Node 22) with a system-assigned managed identity.
// Every setting the code reads (shared/config/settings.ts SETTING_NAMES) is set here; test/infra checks it.
param name string
param location string
param storageAccountName string
param deploymentContainerName string
param vaultUri string
param vaultName string
param wrapKeyName string
param appInsightsConnectionString string
param backupSchedule string
param userParallelism int
param rehydratePriority string
param tenantSecrets array
param instanceMemoryMB int
param maximumInstanceCount int

var blobUrl = 'https://${storageAccountName}.blob.${environment().suffixes.storage}'
var tableUrl = 'https://${storageAccountName}.table.${environment().suffixes.storage}'

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${name}-plan'
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

// Tenant client secrets as Key Vault references (M365_TENANT_SECRET_<TENANT>); resolved by the platform.
// (A for-expression must be a variable's whole value: Bicep refuses one inside concat().)
var tenantSecretSettings = [for t in tenantSecrets: {
  name: 'M365_TENANT_SECRET_${toUpper(t.tenant)}'
  value: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${t.secretName})'
}]

var appSettings = concat([
  // Durable Functions task hub and triggers, through the managed identity (no keys).
  { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
  // The product's settings.
  { name: 'AZURE_STORAGE_BLOB_URL', value: blobUrl }
  { name: 'AZURE_STORAGE_TABLE_URL', value: tableUrl }
  { name: 'M365_BACKUP_REPOSITORY', value: 'm365backup' }
  { name: 'KEY_VAULT_URL', value: vaultUri }
  { name: 'KEY_VAULT_KEY_NAME', value: wrapKeyName }
  { name: 'GRAPH_BASE_URL', value: 'https://graph.microsoft.com/v1.0' }
  { name: 'AZURE_AUTHORITY_HOST', value: environment().authentication.loginEndpoint }
  { name: 'GRAPH_MAILBOX_BUDGET', value: '4,10000/600' }
  { name: 'GRAPH_TENANT_CONCURRENCY', value: '16' }
  { name: 'GRAPH_TENANT_RATE', value: '' }
  { name: 'GRAPH_SHARED_BUDGETS', value: 'on' }
  { name: 'M365_CALENDAR_WINDOW_DAYS', value: '1825' }
  { name: 'BACKUP_SCHEDULE', value: backupSchedule }
  { name: 'BACKUP_USER_PARALLELISM', value: string(userParallelism) }
  { name: 'BACKUP_UNIT_SECONDS', value: '600' }
  { name: 'REHYDRATE_PRIORITY', value: rehydratePriority }
  { name: 'RESTORE_POLL_SECONDS', value: '900' }
  { name: 'RESTORE_LINK_MINUTES', value: '1440' }
], tenantSecretSettings)

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: 'SystemAssigned'
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobUrl}/${deploymentContainerName}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      runtime: { name: 'node', version: '22' }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: appSettings
    }
  }
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostName}'
output principalId string = site.identity.principalId
