import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { mailboxOf, sleep, type RequestGates } from './gates';

export interface RetryPolicy {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** Backoff base when Graph gives no Retry-After (doubles per attempt, with jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 60_000 };

const RETRY_STATUS = new Set([429, 503, 504]);

/** Milliseconds from a Retry-After header: delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

/**
 * What a request costs against a tenant-wide request budget: Graph counts each request of a JSON
 * batch (`POST /$batch`, up to 20), not the envelope.
 */
export function batchSize(url: string, body: unknown): number {
  if (!/\/\$batch(\?|$)/.test(url) || typeof body !== 'string') return 1;
  try {
    const n = (JSON.parse(body) as { requests?: unknown[] }).requests?.length;
    return typeof n === 'number' && n > 0 ? n : 1;
  } catch {
    return 1;
  }
}

/**
 * The one retry layer of every Graph call (it replaces the SDK's RetryHandler): enters the
 * mailbox and tenant gates, sends, and retries 429/503/504 after Retry-After (seconds or HTTP date)
 * and broken connections or truncated bodies with backoff. The body is read here, inside the retry
 * loop, so a connection that drops mid-body is retried like one that never answered.
 */
export class ThrottlingMiddleware implements Middleware {
  private next?: Middleware;

  constructor(
    private readonly gates: RequestGates,
    private readonly policy: RetryPolicy = DEFAULT_RETRY,
  ) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const mailbox = mailboxOf(url);
    const cost = batchSize(url, context.options?.body);
    for (let attempt = 1; ; attempt++) {
      const release = await this.gates.enter(mailbox, cost);
      let failure: unknown;
      try {
        context.response = undefined;
        await this.next!.execute(context);
        const res = context.response as Response | undefined;
        if (res) {
          const body = await res.arrayBuffer();
          context.response = new Response(res.status === 204 || res.status === 304 ? null : body, { status: res.status, statusText: res.statusText, headers: res.headers });
        }
      } catch (e) {
        failure = e;
      } finally {
        release();
      }
      const res = context.response as Response | undefined;
      const retryable = failure !== undefined || (res !== undefined && RETRY_STATUS.has(res.status));
      if (!retryable) return;
      if (attempt >= this.policy.maxAttempts) {
        if (failure !== undefined) throw failure;
        return; // the last 429/503 goes up as a GraphError
      }
      this.gates.counters.retries++;
      let wait = backoffMs(this.policy, attempt);
      if (res && failure === undefined) {
        this.gates.counters.throttled++;
        const after = retryAfterMs(res.headers.get('retry-after'));
        if (after !== undefined) wait = Math.min(after, this.policy.maxDelayMs * 5);
        this.gates.pause(res.status === 429 ? mailbox : undefined, wait);
      }
      await sleep(wait, (context.options as { signal?: AbortSignal } | undefined)?.signal ?? undefined);
    }
  }
}
