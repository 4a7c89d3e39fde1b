import type { GraphConnection } from './connection';
import { sleep } from './gates';

/**
 * Teams allows 60 requests a minute per app per tenant to channel message delta and replies
 * together (Graph's Teams service limits). Every such request of a process passes this gate
 * first, so the run stays under it instead of bouncing off it (a 429 there would pause the whole
 * tenant in the retry layer). The gate keeps a margin below the limit (Graph counts arrivals, we
 * count sends). It is per process and tenant: the CLI run backs up every team in one process; Function App
 * instances backing up teams at the same time each keep their own window, so the app setting
 * TEAMS_MESSAGES_PER_MINUTE should be divided by the instances that run teams units (the retry layer
 * absorbs an overshoot with Retry-After). TEAMS_MESSAGES_WINDOW_MS shortens the window for tests.
 */
export interface TeamsMessageLimit {
  budget: number;
  windowMs: number;
}

export function teamsMessageLimit(env: NodeJS.ProcessEnv = process.env): TeamsMessageLimit {
  const budget = Number(env.TEAMS_MESSAGES_PER_MINUTE ?? 60);
  const windowMs = Number(env.TEAMS_MESSAGES_WINDOW_MS ?? 60_000);
  return { budget: Number.isFinite(budget) && budget > 0 ? budget : 60, windowMs: Number.isFinite(windowMs) && windowMs > 0 ? windowMs : 60_000 };
}

export class TeamsMessageGate {
  private readonly times: number[] = [];
  private queue: Promise<void> = Promise.resolve();
  /** Requests that passed the gate (for reports and the benchmark). */
  sent = 0;

  constructor(readonly limit: TeamsMessageLimit) {}

  /** Usable share of the budget: 90% (at least one), the rest is the margin for latency. */
  private get usable(): number {
    return Math.max(1, Math.floor(this.limit.budget * 0.9));
  }

  /** Waits until one more request fits in the sliding window, then records it (FIFO). */
  take(): Promise<void> {
    const turn = this.queue.then(async () => {
      const window = this.limit.windowMs + Math.min(2000, Math.ceil(this.limit.windowMs / 50));
      for (;;) {
        const now = Date.now();
        while (this.times.length > 0 && this.times[0]! <= now - window) this.times.shift();
        if (this.times.length < this.usable) {
          this.times.push(now);
          this.sent++;
          return;
        }
        await sleep(this.times[0]! + window - now + 1);
      }
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }
}

/** One gate per tenant and app registration in a process (the limit is per app per tenant; a Function App instance makes a connection per activity). */
const gates = new Map<string, TeamsMessageGate>();

export function teamsGateOf(conn: GraphConnection): TeamsMessageGate {
  const key = `${conn.tenant.tenantId}/${conn.tenant.clientId}`;
  let g = gates.get(key);
  if (!g) gates.set(key, (g = new TeamsMessageGate(teamsMessageLimit())));
  return g;
}
