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
param pruneSchedule string
param packLockDays int
param storagePrices string
param userParallelism int
param rehydratePriority string
param tenantSecrets array
param instanceMemoryMB int
param maximumInstanceCount int
param repositoryName string
// The web console's sign-in (App Service Authentication with Entra ID; infra/README.md "Console sign-in").
// Empty: no platform sign-in, the API keeps function keys (API_AUTH=keys) and the console cannot sign in.
param authClientId string = ''
param authTenantId string = tenant().tenantId
// Key Vault secret holding the app registration's client secret (the code flow); empty = id_token flow.
param authClientSecretName string = ''

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

// A tenant's restore-only app registration (tenant add --restore-client-id): M365_TENANT_RESTORE_SECRET_<TENANT>.
var restoreSecretTenants = filter(tenantSecrets, t => contains(t, 'restoreSecretName'))
var tenantRestoreSecretSettings = [for t in restoreSecretTenants: {
  name: 'M365_TENANT_RESTORE_SECRET_${toUpper(t.tenant)}'
  value: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${t.restoreSecretName})'
}]

var authSecretSettings = empty(authClientSecretName) ? [] : [
  { name: 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET', value: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${authClientSecretName})' }
]

// The console's files are public (they hold no data; functions/http/consoleAssets.ts serves a fixed list):
// the page loads signed out and links to /.auth/login/aad. Everything else needs a signed-in caller.
var consolePaths = [for f in ['', 'index.html', 'console.css', 'favicon.svg', 'app.js', 'api.js', 'dom.js', 'dashboard.js', 'run.js', 'format.js']: '/api/console/${f}']

var appSettings = concat([
  // Durable Functions task hub and triggers, through the managed identity (no keys).
  { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
  // The product's settings.
  { name: 'AZURE_STORAGE_BLOB_URL', value: blobUrl }
  { name: 'AZURE_STORAGE_TABLE_URL', value: tableUrl }
  { name: 'M365_BACKUP_REPOSITORY', value: repositoryName }
  { name: 'KEY_VAULT_URL', value: vaultUri }
  { name: 'KEY_VAULT_KEY_NAME', value: wrapKeyName }
  { name: 'GRAPH_BASE_URL', value: 'https://graph.microsoft.com/v1.0' }
  { name: 'AZURE_AUTHORITY_HOST', value: environment().authentication.loginEndpoint }
  { name: 'GRAPH_MAILBOX_BUDGET', value: '4,10000/600' }
  { name: 'GRAPH_TENANT_CONCURRENCY', value: '16' }
  { name: 'GRAPH_TENANT_RATE', value: '' }
  { name: 'GRAPH_SHARED_BUDGETS', value: 'on' }
  { name: 'BACKUP_SCHEDULE', value: backupSchedule }
  { name: 'BACKUP_USER_PARALLELISM', value: string(userParallelism) }
  { name: 'BACKUP_UNIT_SECONDS', value: '600' }
  { name: 'DIRECTORY_PROBE_DAYS', value: '7' }
  { name: 'REHYDRATE_PRIORITY', value: rehydratePriority }
  { name: 'PRUNE_SCHEDULE', value: pruneSchedule }
  { name: 'PACK_LOCK_DAYS', value: string(packLockDays) }
  { name: 'STORAGE_PRICES', value: storagePrices }
  { name: 'RESTORE_POLL_SECONDS', value: '900' }
  { name: 'M365_RESTORE_PARALLELISM', value: '4' }
  { name: 'RESTORE_LINK_MINUTES', value: '1440' }
  // Who may call the API: behind App Service Authentication every function reads X-MS-CLIENT-PRINCIPAL.
  { name: 'API_AUTH', value: empty(authClientId) ? 'keys' : 'entra' }
], tenantSecretSettings, tenantRestoreSecretSettings, authSecretSettings)

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  kind: 'functionapp,linux'
  tags: { 'azd-service-name': 'api' } // azure.yaml: `azd deploy` finds the app by this tag
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

// App Service Authentication ("Easy Auth") with Entra ID: the platform signs callers in, validates
// tokens and hands each function the standard X-MS-CLIENT-PRINCIPAL header (stripped from incoming
// requests). Unauthenticated API calls get 401 (the console then links to /.auth/login/aad); app roles
// Backup.Admin, Backup.Operator, Backup.SelfService come in the token's roles claim.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(authClientId)) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: concat(['/api/console'], consolePaths)
    }
    httpSettings: {
      requireHttps: true
      forwardProxy: { convention: 'NoProxy' }
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
          ...(empty(authClientSecretName) ? {} : { clientSecretSettingName: 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET' })
        }
        validation: {
          // The browser session (id_token of the app) and scripts' access tokens for api://<client id>.
          allowedAudiences: [authClientId, 'api://${authClientId}']
        }
      }
    }
    login: {
      tokenStore: { enabled: false }
      preserveUrlFragmentsForLogins: true
      cookieExpiration: { convention: 'FixedTime', timeToExpiration: '08:00:00' }
      nonce: { validateNonce: true, nonceExpirationInterval: '00:05:00' }
    }
  }
}
