export { SERVICES, isService, servicesNamed, type Service } from './services';
export { servicePartition, directoryPartition } from './partitions';
export { matchUsers, type TenantUser, type DirectoryState } from './user';
export { mergeOutcomes, emptyTotals, addOutcome, type ServiceOutcome, type LoggedOutcome, type ItemFailure, type RunTotals } from './outcome';
export { lanesOf, EXCHANGE_LANE } from './lanes';
