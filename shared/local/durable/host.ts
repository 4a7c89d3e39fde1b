import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { redactSecrets } from '../../redact';
import { registry } from './functionsCore';
import { ActionType, EventType, OUT_OF_PROC_LABEL, event, reusedAction, signatures, type Action, type HistoryEvent } from './history';

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated';

export interface InstanceStatus {
  instanceId: string;
  name: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  output?: unknown;
  customStatus?: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents: number;
}

interface Instance extends InstanceStatus {
  history: HistoryEvent[];
  pending: HistoryEvent[];
  parent?: { instanceId: string; taskId: number };
  /** Signatures of every action the orchestrator returned so far (non-determinism guard). */
  actions: string[];
  generation: number;
  /** History events of this generation already counted in the host's stats. */
  persistedEvents?: number;
}

/**
 * What the host wrote for Durable state, counted as the Azure Storage provider would write it
 * (each history event once, appended; the custom status on each checkpoint) and as this host does
 * (the whole instance file again on each checkpoint).
 */
export interface DurableWriteStats {
  checkpoints: number;
  historyEvents: number;
  historyBytes: number;
  customStatusBytes: number;
  /** historyBytes + customStatusBytes: the bytes a run costs in Durable's store. */
  durableBytes: number;
  /** Bytes of instance files written by this host (each checkpoint rewrites the file). */
  fileBytes: number;
}

export interface LocalDurableHostOptions {
  /** Where instance state is kept (JSON per instance), so a new host resumes after a restart. */
  stateDir?: string;
  /** "virtual": timers fire as soon as nothing else is running (tests); "real": wall clock. */
  clock?: 'real' | 'virtual';
  maxConcurrentActivities?: number;
  log?: (line: string) => void;
  /** Test seam: called before each activity runs; throwing fails that attempt. */
  beforeActivity?: (name: string, input: unknown) => void;
  /** Largest payload (input, output, continueAsNew input, activity input and result) accepted; default 1 MiB as on Azure. Tests set 16 KB to prove payloads stay small. */
  maxPayloadBytes?: number;
  /** Test seam: told the size of every payload guarded (and of every custom status). */
  onPayload?: (what: string, bytes: number) => void;
}

const WARN_PAYLOAD = 45 * 1024;
const MAX_PAYLOAD = 1024 * 1024;
const MAX_CUSTOM_STATUS = 16 * 1024;

const sizeOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v ?? null));

interface OpenTask {
  id: number | false;
  actionObj: Action | 'noOp';
  parent?: { isWaitingOnTimer: boolean; attemptNumber: number; actionObj: Action; retryOptions: NonNullable<Action['retryOptions']> };
}

/**
 * Runs the app's registered Durable Functions in-process through durable-functions' own replay
 * engine (see ../shared notes "durable-local-host"): orchestrator episodes with the extension's
 * binding JSON, activities, sub-orchestrations, timers (virtual or real clock), retries with DTFx's
 * timer sequence, continueAsNew, a non-determinism guard and payload-size guards. State is written
 * after every episode, so a host that is stopped and started again resumes where it was.
 */
export class LocalDurableHost {
  private readonly instances = new Map<string, Instance>();
  private readonly busy = new Set<string>();
  private readonly timers: { instanceId: string; generation: number; taskId: number; fireAt: number }[] = [];
  private readonly activityQueue: (() => Promise<void>)[] = [];
  private runningActivities = 0;
  private virtualNow = Date.parse('2026-01-01T00:00:00Z');
  private stopped = false;
  private readonly waiters = new Map<string, (() => void)[]>();
  private realTimer?: NodeJS.Timeout;
  readonly warnings: string[] = [];
  readonly stats: DurableWriteStats = { checkpoints: 0, historyEvents: 0, historyBytes: 0, customStatusBytes: 0, durableBytes: 0, fileBytes: 0 };
  private inFlight = 0;
  /** Task ids dispatched by this process and not yet completed, per instance (not persisted: a restarted host dispatches again). */
  private readonly dispatched = new Map<string, Set<string>>();

  constructor(private readonly options: LocalDurableHostOptions = {}) {
    if (options.stateDir) mkdirSync(options.stateDir, { recursive: true });
    if (options.clock !== 'virtual') this.virtualNow = Date.now();
  }

  now(): number {
    return this.options.clock === 'virtual' ? this.virtualNow : Date.now();
  }

  /** The runtime's log of every function (errors included), redacted as Azure's must be. */
  private log(line: string): void {
    this.options.log?.(redactSecrets(line));
  }

  // ---------- client API ----------

  /** Starts an orchestration; an existing non-final instance with the same id is an error (dedup). */
  async startNew(name: string, options: { instanceId?: string; input?: unknown } = {}): Promise<string> {
    if (!registry.get(name)) throw new Error(`No orchestrator named ${name} is registered.`);
    const id = options.instanceId ?? randomUUID().replace(/-/g, '');
    const existing = this.instances.get(id);
    if (existing && (existing.runtimeStatus === 'Running' || existing.runtimeStatus === 'Pending' || existing.runtimeStatus === 'Completed'))
      throw new Error(`An orchestration with instance ID ${id} already exists.`);
    this.create(id, name, options.input);
    return id;
  }

  private create(id: string, name: string, input: unknown, parent?: Instance['parent']): Instance {
    this.guardPayload(`input of ${name}`, input);
    const time = new Date(this.now()).toISOString();
    const inst: Instance = {
      instanceId: id,
      name,
      runtimeStatus: 'Pending',
      input: JSON.parse(JSON.stringify(input ?? null)),
      createdTime: time,
      lastUpdatedTime: time,
      historyEvents: 0,
      history: [],
      pending: [event(EventType.ExecutionStarted, this.now(), { Name: name, Input: JSON.stringify(input ?? null), Version: '' })],
      actions: [],
      generation: 0,
      ...(parent ? { parent } : {}),
    };
    this.instances.set(id, inst);
    this.kick(inst);
    return inst;
  }

  getStatus(id: string): InstanceStatus | undefined {
    const i = this.instances.get(id);
    return i ? this.publicStatus(i) : undefined;
  }

  /** The stored history of an instance (tests scan it for secrets). */
  history(id: string): HistoryEvent[] {
    return this.instances.get(id)?.history ?? [];
  }

  list(): InstanceStatus[] {
    return [...this.instances.values()].map((i) => this.publicStatus(i));
  }

  async waitForCompletion(id: string, timeoutMs = 600_000): Promise<InstanceStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.getStatus(id);
      if (s && (s.runtimeStatus === 'Completed' || s.runtimeStatus === 'Failed' || s.runtimeStatus === 'Terminated')) return s;
      if (Date.now() > deadline) throw new Error(`Orchestration ${id} did not finish within ${timeoutMs} ms.`);
      await new Promise<void>((resolve) => {
        const list = this.waiters.get(id) ?? [];
        list.push(resolve);
        this.waiters.set(id, list);
        setTimeout(resolve, 200);
      });
    }
  }

  /** Stops dispatching (a "crash"): in-flight activity results are dropped, state on disk stays. */
  stop(): void {
    this.stopped = true;
    if (this.realTimer) clearTimeout(this.realTimer);
  }

  /** Loads persisted instances and continues the unfinished ones (a host start after a restart). */
  resume(): number {
    if (!this.options.stateDir) return 0;
    let n = 0;
    for (const f of readdirSync(this.options.stateDir)) {
      if (!f.endsWith('.json')) continue;
      const inst = JSON.parse(readFileSync(join(this.options.stateDir, f), 'utf8')) as Instance;
      this.instances.set(inst.instanceId, inst);
      if (inst.runtimeStatus === 'Running' || inst.runtimeStatus === 'Pending') {
        n++;
        this.kick(inst);
      }
    }
    return n;
  }

  // ---------- episodes ----------

  private publicStatus(i: Instance): InstanceStatus {
    return { instanceId: i.instanceId, name: i.name, runtimeStatus: i.runtimeStatus, input: i.input, output: i.output, customStatus: i.customStatus, createdTime: i.createdTime, lastUpdatedTime: i.lastUpdatedTime, historyEvents: i.history.length };
  }

  private kick(inst: Instance): void {
    if (this.stopped || this.busy.has(inst.instanceId)) return;
    this.busy.add(inst.instanceId);
    this.inFlight++;
    setImmediate(() => {
      this.episode(inst)
        .catch((e: unknown) => this.finish(inst, 'Failed', `local host error: ${String((e as Error)?.stack ?? e)}`))
        .finally(() => {
          this.busy.delete(inst.instanceId);
          this.inFlight--;
          if (inst.pending.length > 0 && (inst.runtimeStatus === 'Running' || inst.runtimeStatus === 'Pending')) this.kick(inst);
          this.advanceClock();
        });
    });
  }

  private async episode(inst: Instance): Promise<void> {
    const fn = registry.get(inst.name);
    if (!fn) return this.finish(inst, 'Failed', `No orchestrator named ${inst.name} is registered.`);
    for (const e of inst.history) e.IsPlayed = true;
    inst.history.push(event(EventType.OrchestratorStarted, this.now()), ...inst.pending);
    inst.pending = [];
    inst.runtimeStatus = 'Running';
    const binding = {
      history: inst.history,
      input: inst.input,
      instanceId: inst.instanceId,
      isReplaying: inst.history.some((e) => e.IsPlayed),
      parentInstanceId: inst.parent?.instanceId,
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 2,
      longRunningTimerIntervalDuration: '3.00:00:00',
      maximumShortTimerDuration: '6.00:00:00',
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };
    const context = new InvocationContext({ functionName: inst.name, invocationId: randomUUID(), logHandler: (_level, ...args) => this.log(`[${inst.name}] ${args.map(String).join(' ')}`) });
    let state: { isDone: boolean; actions: Action[][]; output?: unknown; error?: string; customStatus?: unknown };
    let failed = false;
    try {
      state = (await fn.callback(JSON.parse(JSON.stringify(binding)), context)) as typeof state;
    } catch (e) {
      const message = String((e as Error)?.message ?? e);
      const at = message.indexOf(OUT_OF_PROC_LABEL);
      state = at >= 0 ? (JSON.parse(message.slice(at + OUT_OF_PROC_LABEL.length)) as typeof state) : { isDone: false, actions: [], error: message };
      failed = true;
    }
    const actions = state.actions?.[0] ?? [];
    const reused = failed ? undefined : reusedAction(actions);
    if (reused) return this.finish(inst, 'Failed', `Orchestrator ${inst.name} put an already scheduled task (${reused}) into a new Task.any/Task.all: Azure's Durable extension would schedule it a second time (azure-functions-durable-js#574). Wait on fresh tasks only, e.g. one sub-orchestration per lane.`);
    const sigs = signatures(actions);
    for (let i = 0; i < Math.min(sigs.length, inst.actions.length); i++)
      if (sigs[i] !== inst.actions[i]) return this.finish(inst, 'Failed', `Non-deterministic orchestrator ${inst.name}: action #${i} was ${inst.actions[i]} in history but ${sigs[i]} on replay.`);
    inst.actions = sigs;
    if (state.customStatus !== undefined) {
      this.options.onPayload?.(`custom status of ${inst.name}`, sizeOf(state.customStatus));
      if (sizeOf(state.customStatus) > MAX_CUSTOM_STATUS) return this.finish(inst, 'Failed', `Custom status of ${inst.name} exceeds 16 KB.`);
      inst.customStatus = JSON.parse(JSON.stringify(state.customStatus));
    }
    if (failed) return this.finish(inst, 'Failed', state.error ?? 'orchestrator failed');
    if (state.isDone) {
      const can = actions.find((a) => a.actionType === ActionType.ContinueAsNew);
      if (can) {
        this.guardPayload(`continueAsNew input of ${inst.name}`, can.input);
        inst.input = typeof can.input === 'string' ? JSON.parse(can.input) : JSON.parse(JSON.stringify(can.input ?? null));
        inst.history = [];
        inst.persistedEvents = 0;
        inst.actions = [];
        inst.generation++;
        inst.pending = [event(EventType.ExecutionStarted, this.now(), { Name: inst.name, Input: JSON.stringify(inst.input), Version: '' })];
        this.persist(inst);
        return;
      }
      this.guardPayload(`output of ${inst.name}`, state.output);
      inst.output = JSON.parse(JSON.stringify(state.output ?? null));
      return this.finish(inst, 'Completed');
    }
    // Work the replay engine is waiting for: its open tasks carry the exact ids history must use.
    const executor = (context as unknown as { df: { taskOrchestratorExecutor: { openTasks: Record<string, OpenTask> } } }).df.taskOrchestratorExecutor;
    const done = new Set<number>();
    for (const e of inst.history) for (const k of ['TaskScheduledId', 'TimerId'] as const) if (typeof e[k] === 'number') done.add(e[k] as number);
    const scheduled = new Set(inst.history.filter((e) => [EventType.TaskScheduled, EventType.TimerCreated, EventType.SubOrchestrationInstanceCreated].includes(e.EventType as 4)).map((e) => e.EventId));
    let mine = this.dispatched.get(inst.instanceId);
    if (!mine) this.dispatched.set(inst.instanceId, (mine = new Set()));
    for (const [key, task] of Object.entries(executor.openTasks)) {
      const id = Number(key);
      const tag = `${inst.generation}:${id}`;
      if (!Number.isInteger(id) || done.has(id) || mine.has(tag)) continue;
      mine.add(tag);
      this.dispatch(inst, id, task, scheduled.has(id));
    }
    inst.lastUpdatedTime = new Date(this.now()).toISOString();
    this.persist(inst);
  }

  private dispatch(inst: Instance, id: number, task: OpenTask, alreadyRecorded: boolean): void {
    let action: Action;
    if (task.actionObj === 'noOp') {
      const parent = task.parent!;
      if (parent.isWaitingOnTimer) {
        const r = parent.retryOptions;
        const delay = Math.min(r.maxRetryIntervalInMilliseconds ?? Number.MAX_SAFE_INTEGER, r.firstRetryIntervalInMilliseconds * (r.backoffCoefficient ?? 1) ** Math.max(0, parent.attemptNumber - 2));
        return this.timer(inst, id, this.now() + delay, alreadyRecorded);
      }
      action = parent.actionObj;
    } else action = task.actionObj;
    if (action.actionType === ActionType.CreateTimer) {
      if (!action.isCanceled) this.timer(inst, id, new Date(action.fireAt as string).getTime(), alreadyRecorded);
      return;
    }
    const input = typeof action.input === 'string' && action.actionType <= ActionType.CallActivityWithRetry ? JSON.parse(action.input) : JSON.parse(JSON.stringify(action.input ?? null));
    if (action.actionType === ActionType.CallActivity || action.actionType === ActionType.CallActivityWithRetry) {
      if (!alreadyRecorded) inst.history.push({ ...event(EventType.TaskScheduled, this.now(), { Name: action.functionName, Input: JSON.stringify(input ?? null) }), EventId: id });
      this.runActivity(inst, id, action.functionName!, input);
    } else if (action.actionType === ActionType.CallSubOrchestrator || action.actionType === ActionType.CallSubOrchestratorWithRetry) {
      const childId = action.instanceId || `${inst.instanceId}:${inst.generation}:${id}`;
      if (!alreadyRecorded) inst.history.push({ ...event(EventType.SubOrchestrationInstanceCreated, this.now(), { Name: action.functionName, InstanceId: childId, Input: JSON.stringify(input ?? null) }), EventId: id });
      const existing = this.instances.get(childId);
      if (existing && existing.runtimeStatus !== 'Failed') {
        if (existing.runtimeStatus === 'Completed') this.complete(inst, id, true, existing.output, inst.generation);
        else if (!this.busy.has(childId)) this.kick(existing);
      } else this.create(childId, action.functionName!, input, { instanceId: inst.instanceId, taskId: id });
    }
  }

  private timer(inst: Instance, id: number, fireAt: number, alreadyRecorded: boolean): void {
    if (!alreadyRecorded) inst.history.push({ ...event(EventType.TimerCreated, this.now(), { FireAt: new Date(fireAt).toISOString() }), EventId: id });
    this.timers.push({ instanceId: inst.instanceId, generation: inst.generation, taskId: id, fireAt });
    this.advanceClock();
  }

  private runActivity(inst: Instance, id: number, name: string, input: unknown): void {
    const generation = inst.generation;
    this.guardPayload(`input of activity ${name}`, input);
    this.activityQueue.push(async () => {
      const fn = registry.get(name);
      try {
        if (!fn) throw new Error(`No activity named ${name} is registered.`);
        this.options.beforeActivity?.(name, input);
        const started = Date.now();
        const ctx = new InvocationContext({ functionName: name, invocationId: randomUUID(), logHandler: (_l, ...a) => this.log(`[${name}] ${a.map(String).join(' ')}`) });
        const result = await fn.callback(JSON.parse(JSON.stringify(input ?? null)), ctx);
        this.guardPayload(`output of activity ${name}`, result);
        this.log(`activity ${name} done in ${Date.now() - started} ms`);
        this.complete(inst, id, true, result, generation, EventType.TaskCompleted);
      } catch (e) {
        this.log(`activity ${name} failed: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
        this.complete(inst, id, false, e, generation, EventType.TaskFailed);
      }
    });
    this.pumpActivities();
  }

  private pumpActivities(): void {
    const max = this.options.maxConcurrentActivities ?? 8;
    while (!this.stopped && this.runningActivities < max && this.activityQueue.length > 0) {
      const job = this.activityQueue.shift()!;
      this.runningActivities++;
      this.inFlight++;
      void job().finally(() => {
        this.runningActivities--;
        this.inFlight--;
        this.pumpActivities();
        this.advanceClock();
      });
    }
  }

  /** Records a task's outcome for the next episode of `inst` (dropped if the instance moved on). */
  private complete(inst: Instance, id: number, ok: boolean, value: unknown, generation: number, type?: number): void {
    if (this.stopped || inst.generation !== generation) return;
    const t = type ?? (ok ? EventType.SubOrchestrationInstanceCompleted : EventType.SubOrchestrationInstanceFailed);
    if (ok) inst.pending.push(event(t, this.now(), { TaskScheduledId: id, Result: JSON.stringify(value ?? null) }));
    else {
      const err = value instanceof Error ? value : new Error(String(value));
      inst.pending.push(event(t, this.now(), { TaskScheduledId: id, Reason: err.message, Details: err.stack ?? '', FailureDetails: { ErrorType: err.name, ErrorMessage: err.message, StackTrace: err.stack ?? '', IsNonRetriable: false } }));
    }
    this.kick(inst);
  }

  private finish(inst: Instance, status: RuntimeStatus, error?: string): void {
    inst.runtimeStatus = status;
    if (error !== undefined) {
      inst.output = error;
      this.log(`[${inst.name}] ${inst.instanceId} failed: ${error.split('\n')[0]}`);
    }
    inst.lastUpdatedTime = new Date(this.now()).toISOString();
    inst.historyEvents = inst.history.length;
    this.persist(inst);
    if (inst.parent) {
      const parent = this.instances.get(inst.parent.instanceId);
      if (parent) this.complete(parent, inst.parent.taskId, status === 'Completed', status === 'Completed' ? inst.output : new Error(String(inst.output)), parent.generation);
    }
    for (const w of this.waiters.get(inst.instanceId) ?? []) w();
    this.waiters.delete(inst.instanceId);
  }

  private persist(inst: Instance): void {
    inst.historyEvents = inst.history.length;
    const fresh = inst.history.slice(inst.persistedEvents ?? 0);
    inst.persistedEvents = inst.history.length;
    this.stats.checkpoints++;
    this.stats.historyEvents += fresh.length;
    if (fresh.length > 0) this.stats.historyBytes += sizeOf(fresh) - 2 - (fresh.length - 1);
    if (inst.customStatus !== undefined) this.stats.customStatusBytes += sizeOf(inst.customStatus);
    this.stats.durableBytes = this.stats.historyBytes + this.stats.customStatusBytes;
    if (inst.history.length > 1000) this.warn(`history of ${inst.instanceId} has ${inst.history.length} events`);
    if (!this.options.stateDir) return;
    const file = join(this.options.stateDir, `${encodeURIComponent(inst.instanceId)}.json`);
    const json = JSON.stringify(inst);
    this.stats.fileBytes += Buffer.byteLength(json);
    writeFileSync(`${file}.tmp`, json);
    renameSync(`${file}.tmp`, file);
  }

  private guardPayload(what: string, v: unknown): void {
    const n = sizeOf(v);
    this.options.onPayload?.(what, n);
    const max = this.options.maxPayloadBytes ?? MAX_PAYLOAD;
    if (n > max) throw new Error(`The ${what} is ${n} bytes; Durable payloads must stay under ${max === MAX_PAYLOAD ? '1 MiB' : `${max} bytes`} (store large data in storage and pass a reference).`);
    if (n > WARN_PAYLOAD) this.warn(`the ${what} is ${n} bytes (over 45 KB is slow on the Azure Storage provider)`);
  }

  private warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  /** Fires due timers; with the virtual clock, jumps to the next timer when nothing else is running. */
  private advanceClock(): void {
    if (this.stopped || this.timers.length === 0) return;
    this.timers.sort((a, b) => a.fireAt - b.fireAt);
    if (this.options.clock === 'virtual') {
      if (this.inFlight > 0 || this.activityQueue.length > 0) return;
      this.virtualNow = Math.max(this.virtualNow, this.timers[0]!.fireAt);
    }
    const now = this.now();
    while (this.timers.length > 0 && this.timers[0]!.fireAt <= now) {
      const t = this.timers.shift()!;
      const inst = this.instances.get(t.instanceId);
      if (inst && inst.generation === t.generation) {
        inst.pending.push(event(EventType.TimerFired, now, { TimerId: t.taskId, FireAt: new Date(t.fireAt).toISOString() }));
        this.kick(inst);
      }
    }
    if (this.options.clock !== 'virtual' && this.timers.length > 0) {
      if (this.realTimer) clearTimeout(this.realTimer);
      this.realTimer = setTimeout(() => this.advanceClock(), Math.max(0, this.timers[0]!.fireAt - Date.now()));
      this.realTimer.unref();
    }
  }
}
