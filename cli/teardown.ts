import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

/** The signals that ask a long-running command to stop: Ctrl-C, a supervisor's stop, a closed terminal. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** The shell's convention for "ended by a signal": 128 + the signal's number (130, 143, 129). */
export const exitCodeFor = (signal: StopSignal): number => 128 + constants.signals[signal];

/**
 * Calls `handler` on any stop signal instead of Node's default (dying at once, which leaves child
 * processes running and temporary folders behind). Returns a function that removes the handlers.
 */
export function onStopSignal(handler: (signal: StopSignal) => void): () => void {
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
}

/**
 * What a command started, to undo once, newest first, whether it ends normally, fails or is
 * signalled. Each undo step awaits its start, so a start still under way is undone when it is up;
 * once teardown has begun, nothing new starts.
 */
export class Teardown {
  private readonly steps: (() => unknown)[] = [];
  private done?: Promise<void>;

  /** Starts something and registers how to stop it, in one step (no window for a signal between). */
  start<T>(begin: () => Promise<T>, end: (started: T) => unknown): Promise<T> {
    if (this.done) return Promise.reject(new Error('stopping: nothing new is started'));
    const started = begin();
    this.steps.push(async () => end(await started));
    return started;
  }

  /** Registers an undo step for something already there (a temporary folder). */
  add(step: () => unknown): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    this.done ??= (async () => {
      for (const step of [...this.steps].reverse()) await Promise.resolve().then(step).catch(() => undefined);
    })();
    return this.done;
  }
}

/** Stops a child process: SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
