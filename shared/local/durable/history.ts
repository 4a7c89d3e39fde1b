/** Durable Task history events (PascalCase, numeric EventType), as the Durable extension sends them. */
export const EventType = {
  ExecutionStarted: 0,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
} as const;

export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  [field: string]: unknown;
}

export function event(type: number, time: number, fields: Record<string, unknown> = {}): HistoryEvent {
  return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: new Date(time).toISOString(), ...fields };
}

/** Action types of durable-functions' OrchestratorState (lib/src/actions/ActionType.js). */
export const ActionType = { CallActivity: 0, CallActivityWithRetry: 1, CallSubOrchestrator: 2, CallSubOrchestratorWithRetry: 3, ContinueAsNew: 4, CreateTimer: 5, WhenAny: 11, WhenAll: 12 } as const;

export interface Action {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  fireAt?: string | Date;
  isCanceled?: boolean;
  retryOptions?: { firstRetryIntervalInMilliseconds: number; maxNumberOfAttempts: number; backoffCoefficient?: number; maxRetryIntervalInMilliseconds?: number };
  compoundActions?: Action[];
}

/** A flat list of an episode's action signatures, for the non-determinism guard. */
export function signatures(actions: Action[]): string[] {
  const out: string[] = [];
  const walk = (a: Action) => {
    if (a.compoundActions) a.compoundActions.forEach(walk);
    else out.push(`${a.actionType}:${a.functionName ?? ''}`);
  };
  actions.forEach(walk);
  return out;
}

/**
 * The first action that appears twice in an episode's action list (same object), as
 * `type:name`: a task yielded once and then again inside a new compound (Task.any/Task.all).
 * durable-functions 3.x sends the compound with all its children and the extension, which has no
 * task ids on this protocol, schedules the repeated child again (azure-functions-durable-js#574),
 * so the local host refuses what Azure would get wrong.
 */
export function reusedAction(actions: Action[]): string | undefined {
  const seen = new Set<Action>();
  let found: string | undefined;
  const walk = (a: Action) => {
    if (found) return;
    if (seen.has(a)) found = `${a.actionType}:${a.functionName ?? ''}`;
    seen.add(a);
    if (a.compoundActions) a.compoundActions.forEach(walk);
  };
  actions.forEach(walk);
  return found;
}

export const OUT_OF_PROC_LABEL = '\n\n$OutOfProcData$:';
