export { installFunctionsCore, registry, type RegisteredFunction } from './functionsCore';
export { LocalDurableHost, type LocalDurableHostOptions, type InstanceStatus, type RuntimeStatus } from './host';
export { startLocalFunctionsServer, type LocalFunctionsServer } from './httpServer';
export { EventType, ActionType, OUT_OF_PROC_LABEL, type HistoryEvent } from './history';
