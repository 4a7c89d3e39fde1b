// Least privilege for the Function App's managed identity, scoped to its own storage account and vault.
param principalId string
param storageAccountName string
param vaultName string

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

var roles = {
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // packs, indexes, restore zips, user-delegation SAS
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // the index and the Durable task hub
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Durable Functions work queues
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424' // get the wrapping key, unwrapKey
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6' // tenant secrets referenced from app settings
}

// Writing blob index tags (packs are tagged for the lifecycle rule) is not part of Blob Data Contributor.
resource blobTagWriter 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'm365-backup-blob-tag-writer')
  properties: {
    roleName: 'm365-backup blob tag writer (${resourceGroup().name})'
    description: 'Write blob index tags, nothing else.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/write']
        notDataActions: []
      }
    ]
  }
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [roles.storageBlobDataContributor, roles.storageTableDataContributor, roles.storageQueueDataContributor]: {
  name: guid(account.id, principalId, role)
  scope: account
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

resource tagRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, 'blob-tag-writer')
  scope: account
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: blobTagWriter.id
  }
}

resource vaultRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [roles.keyVaultCryptoUser, roles.keyVaultSecretsUser]: {
  name: guid(vault.id, principalId, role)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]
