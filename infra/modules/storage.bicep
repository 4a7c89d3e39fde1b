// Storage: packs (Cool, then Archive by the lifecycle rule), Hot pack indexes and metadata, the Table
// index, the Durable task hub, restore zips, and the Flex Consumption deployment package.
param name string
param location string
param archiveAfterDays int

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_ZRS' }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false // the app uses its managed identity; no account keys in settings
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: 7 }
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'app-package'
}

// Pack blobs carry the index tag m365backup=pack (the product sets it); only they go to Archive.
// Pack-index blobs, catalogs and locks have no tag and stay Hot.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'packs-to-archive'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              blobIndexMatch: [
                { name: 'm365backup', op: '==', value: 'pack' }
              ]
            }
            actions: {
              baseBlob: {
                tierToArchive: { daysAfterModificationGreaterThan: archiveAfterDays }
              }
            }
          }
        }
        {
          // Restore zips and plans (tag m365backup=restore) are deleted by the product when their link
          // expires (RESTORE_LINK_MINUTES, default 24 h); this rule is the backstop for a restore that could not.
          name: 'restore-zips-expire'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              blobIndexMatch: [
                { name: 'm365backup', op: '==', value: 'restore' }
              ]
            }
            actions: { baseBlob: { delete: { daysAfterCreationGreaterThan: 1 } } }
          }
        }
      ]
    }
  }
}

output name string = account.name
output deploymentContainerName string = deploymentContainer.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output tableEndpoint string = account.properties.primaryEndpoints.table
