// Key Vault: RBAC authorization, purge protection, and the RSA key that wraps every repository's
// master secret and key envelopes (wrapping is done locally with the public key; unwrap in the vault).
param name string
param location string
param wrapKeyName string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource wrapKey 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: wrapKeyName
  properties: {
    kty: 'RSA'
    keySize: 3072
    keyOps: ['wrapKey', 'unwrapKey']
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
