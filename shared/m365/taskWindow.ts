/** The little of a Durable task and orchestration context the window uses (the SDK stays at its edge). */
export interface WindowTask {
  readonly isCompleted: boolean;
  readonly isFaulted: boolean;
  readonly result?: unknown;
}
interface WindowTimer extends WindowTask {
  cancel(): void;
}
export interface WindowContext<T extends WindowTask> {
  df: { currentUtcDateTime: Date; createTimer(fireAt: Date): T & WindowTimer; Task: { any(tasks: T[]): T } };
}

/**
 * A sliding window of Durable tasks for orchestrators: at most `limit` jobs in flight, the next one
 * started as soon as one ends (a slow user stalls no one), a job's follow-up (e.g. the next work
 * unit of the same part) taking the slot of the one that ended.
 *
 * Why polling and not "Task.any of what is in flight": durable-functions 3.x schedules a task again
 * when it goes into a second Task.any (azure-functions-durable-js#574). So each task goes into
 * exactly one Task.any, the one that starts it, with a poll timer; completions of older tasks are
 * recorded on them by replay and picked up when the timer fires (polls back off while nothing ends).
 * With nothing left to start, the oldest task is waited for on its own (no timer).
 * Deterministic: it reads only the tasks' states and `currentUtcDateTime`.
 */
export interface TaskWindow<K, Task extends WindowTask> {
  /** Jobs to run, in order. */
  jobs: K[];
  limit: number;
  start: (job: K) => Task;
  /** Called once per job as its task ends (completed or faulted); returns a follow-up job or undefined. */
  ended: (job: K, task: Task) => K | undefined;
  pollMinMs?: number;
  pollMaxMs?: number;
}

export function* runTaskWindow<K, Task extends WindowTask>(context: WindowContext<Task>, w: TaskWindow<K, Task>): Generator<Task, void, unknown> {
  const queue = [...w.jobs];
  const limit = Math.max(1, w.limit);
  const pollMin = w.pollMinMs ?? 1_000;
  const pollMax = w.pollMaxMs ?? 30_000;
  let pollMs = pollMin;
  let running: { job: K; task: Task }[] = [];
  while (queue.length > 0 || running.length > 0) {
    const fresh: Task[] = [];
    while (running.length < limit && queue.length > 0) {
      const job = queue.shift()!;
      const task = w.start(job);
      running.push({ job, task });
      fresh.push(task);
    }
    if (fresh.length === 0 && queue.length === 0) {
      // Nothing left to start: wait for the oldest on its own (a task may be yielded by itself again).
      try {
        yield running[0]!.task;
      } catch {
        // handed to `ended` below
      }
    } else {
      const timer = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + pollMs));
      const woke = yield fresh.length > 0 ? context.df.Task.any([...fresh, timer]) : timer;
      if (woke !== timer && !timer.isCompleted) timer.cancel();
    }
    const still: typeof running = [];
    const followUps: K[] = [];
    for (const r of running) {
      if (!r.task.isCompleted && !r.task.isFaulted) {
        still.push(r);
        continue;
      }
      const next = w.ended(r.job, r.task);
      if (next !== undefined) followUps.push(next);
    }
    pollMs = still.length < running.length ? pollMin : Math.min(pollMax, pollMs * 2);
    running = still;
    queue.unshift(...followUps);
  }
}
