import type { GraphConnection } from './connection';
import { sleep } from './gates';
import { SharedTenantGates } from './sharedGates';

/**
 * Teams allows 60 requests a minute per app per tenant to channel message delta and replies
 * together (Graph's Teams service limits). Every such request of a process passes this gate
 * first, so the run stays under it instead of bouncing off it (a 429 there would pause the whole
 * tenant in the retry layer). The gate keeps a margin below the limit (Graph counts arrivals, we
 * count sends). When the connection's budgets are shared through the repository's budget rows
 * (`SharedTenantGates`, every backup of a registered tenant unless GRAPH_SHARED_BUDGETS=off), the
 * window is the row "teams-messages" of the tenant's budget partition, so any number of Function App
 * instances and CLI runs together stay under it; otherwise it is this process's own window.
 * TEAMS_MESSAGES_PER_MINUTE lowers the limit, TEAMS_MESSAGES_WINDOW_MS shortens the window for tests.
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

/** What the Teams source waits on before each limited request. */
export interface TeamsGate {
  take(): Promise<void>;
  /** Requests that passed the gate (for reports and the benchmark). */
  sent: number;
}

/** Usable share of the budget: 90% (at least one), the rest is the margin for latency (Graph counts arrivals, we count sends). */
const usableOf = (limit: TeamsMessageLimit) => Math.max(1, Math.floor(limit.budget * 0.9));

/** The window held in the tenant's budget rows, shared by every process of the app and tenant. */
export class SharedTeamsMessageGate implements TeamsGate {
  sent = 0;

  constructor(
    private readonly gates: SharedTenantGates,
    readonly limit: TeamsMessageLimit,
  ) {}

  async take(): Promise<void> {
    await this.gates.takeWindow('teams-messages', { budget: usableOf(this.limit), windowMs: this.limit.windowMs });
    this.sent++;
  }
}

export class TeamsMessageGate implements TeamsGate {
  private readonly times: number[] = [];
  private queue: Promise<void> = Promise.resolve();
  /** Requests that passed the gate (for reports and the benchmark). */
  sent = 0;

  constructor(readonly limit: TeamsMessageLimit) {}

  private get usable(): number {
    return usableOf(this.limit);
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
const shared = new WeakMap<SharedTenantGates, SharedTeamsMessageGate>();

export function teamsGateOf(conn: GraphConnection): TeamsGate {
  if (conn.gates instanceof SharedTenantGates) {
    let g = shared.get(conn.gates);
    if (!g) shared.set(conn.gates, (g = new SharedTeamsMessageGate(conn.gates, teamsMessageLimit())));
    return g;
  }
  const key = `${conn.tenant.tenantId}/${conn.tenant.clientId}`;
  let g = gates.get(key);
  if (!g) gates.set(key, (g = new TeamsMessageGate(teamsMessageLimit())));
  return g;
}
