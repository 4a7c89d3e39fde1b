// Storage: packs (Cool, then Archive by the lifecycle rule), Hot pack indexes and metadata, the Table
// index, the Durable task hub, restore zips, and the Flex Consumption deployment package.
param name string
param location string
param archiveAfterDays int

@description('Redundancy. Archive needs LRS, GRS or RA-GRS: ZRS, GZRS and RA-GZRS accounts have no Archive tier.')
param skuName string

@description('Repository name (M365_BACKUP_REPOSITORY): its pack container is <name>-packs.')
param repositoryName string

@description('Days every new pack blob version is immutable (version-level WORM, container default policy).')
param packImmutabilityDays int

@description('Days a garbage-tagged blob waits before the lifecycle rule deletes it (after its lock ends).')
param garbageDeleteAfterDays int

// ZRS/GZRS accounts cannot hold Archive blobs, so no pack would ever be archived: refuse them with a reason.
var archiveCapableSkus = ['Standard_LRS', 'Standard_GRS', 'Standard_RAGRS']
var checkedSkuName = contains(archiveCapableSkus, skuName)
  ? skuName
  : fail('Storage redundancy ${skuName} does not support the Archive tier (ZRS, GZRS and RA-GZRS accounts have none); use Standard_GRS (default), Standard_RAGRS or Standard_LRS.')

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  kind: 'StorageV2'
  sku: { name: checkedSkuName }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false // the app uses its managed identity; no account keys in settings
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    // Version-level immutability in every container (set at creation only): each tenant's repository
    // creates its own containers, and the app locks their packs, pack indexes and catalogs per blob
    // version in generations (PACK_LOCK_DAYS; docs/retention.md, "Immutable packs"). No account
    // default policy: lease and Bloom blobs are rewritten all the time.
    immutableStorageWithVersioning: { enabled: true }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    // Versioning is required by version-level immutability: an overwrite or delete keeps the old version.
    isVersioningEnabled: true
    deleteRetentionPolicy: { enabled: true, days: 7 }
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

// Ransomware guard: nobody (not the app, not a stolen deployment credential) deletes the account
// without first removing this lock, which needs Microsoft.Authorization/locks/delete (Owner).
resource accountLock 'Microsoft.Authorization/locks@2020-05-01' = {
  name: '${name}-no-delete'
  scope: account
  properties: {
    level: 'CanNotDelete'
    notes: 'm365-backup: the backups live here. Remove this lock only to decommission the deployment.'
  }
}

// Packs: version-level WORM. Every new version gets the container's default policy (packImmutabilityDays
// after creation); while it lasts the app's identity cannot delete or overwrite it. The policy is deployed
// Unlocked (it can still be shortened); lock it once to make it binding (infra/README.md, "Immutability").
resource packContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: '${repositoryName}-packs'
  properties: {
    publicAccess: 'None'
    immutableStorageWithVersioning: { enabled: true }
  }
}

resource packImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  parent: packContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: packImmutabilityDays
    allowProtectedAppendWrites: false
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
        {
          // Prune never needs a delete right on locked packs: it tags garbage m365backup=garbage and this
          // rule deletes it once its immutability has ended (a delete before that fails and is retried daily).
          name: 'garbage-delete'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              blobIndexMatch: [
                { name: 'm365backup', op: '==', value: 'garbage' }
              ]
            }
            actions: {
              baseBlob: { delete: { daysAfterModificationGreaterThan: packImmutabilityDays + garbageDeleteAfterDays } }
            }
          }
        }
        {
          // Versioning keeps every overwritten or deleted version; drop them once no lock can still hold them.
          name: 'old-versions-expire'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'] }
            actions: {
              version: { delete: { daysAfterCreationGreaterThan: packImmutabilityDays + garbageDeleteAfterDays } }
            }
          }
        }
      ]
    }
  }
}

output name string = account.name
output packContainerName string = packContainer.name
output deploymentContainerName string = deploymentContainer.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output tableEndpoint string = account.properties.primaryEndpoints.table
