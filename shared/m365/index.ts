export { SERVICES, DEFAULT_SERVICES, OPT_IN_SERVICES, isService, servicesNamed, backupServicesOf, entryOffers, type Service, type TenantServiceSettings } from './services';
export { servicePartition, directoryPartition } from './partitions';
export { matchUsers, TENANT_DIRECTORY, type TenantUser, type DirectoryState, type DirectoryUser, type LastRunRef } from './user';
export { mergeOutcomes, recordedInBatch, emptyTotals, addOutcome, partFailureReason, type ServiceOutcome, type LoggedOutcome, type ItemFailure, type RunTotals } from './outcome';
export { lanesOf, EXCHANGE_LANE } from './lanes';
export { SCOPE_SERVICE, SCOPE_DIR, SCOPE_PLURAL, scopeOf, scopeEntryId, isScopeService, servicesOfEntry, type ScopeKind } from './scopes';
