import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import type { StorageCounts } from '../../shared/storage/countingStores';

/** A reply of a cost driver process (unitCostDriver, activityCostDriver). */
export type DriverReply = { ok: boolean; error?: string; result?: unknown; counts?: StorageCounts };

/**
 * A cost driver run as its own process (a worker of the Function App, with counting stores): it
 * answers each command sent over IPC in order; `ready` is its first message.
 */
export class DriverProcess {
  private readonly child: ChildProcess;
  private queue: ((r: DriverReply) => void)[] = [];
  readonly ready: Promise<DriverReply>;
  constructor(driver: string, env: NodeJS.ProcessEnv) {
    this.child = fork(driver, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve) => this.queue.push(resolve));
    this.child.on('message', (m: DriverReply) => this.queue.shift()?.(m));
  }
  async send(cmd: object): Promise<DriverReply> {
    const r = await new Promise<DriverReply>((resolve) => {
      this.queue.push(resolve);
      this.child.send(cmd);
    });
    assert.ok(r.ok, r.error);
    return r;
  }
  stop(): void {
    this.child.send({ cmd: 'exit' });
  }
}
