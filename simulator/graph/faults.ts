import { SeededRandom } from '../../shared/local';

export type FaultKind = 'throttle' | 'unavailable' | 'reset' | 'truncate' | 'expireDownloadUrl' | 'gone';

export interface FaultOptions {
  /** Share of eligible requests that fail, 0..1. */
  rate: number;
  kinds: FaultKind[];
  seed?: number;
  /** Retry-After sent with injected 429/503 (seconds); "date" sends an HTTP date instead. */
  retryAfter?: number | 'date';
}

export interface RouteTraits {
  /** A delta request carrying a token (eligible for 410). */
  deltaWithToken: boolean;
  /** A pre-authenticated download URL (eligible for expiry). */
  download: boolean;
}

/** Chooses, deterministically from a seed, which requests fail and how. */
export class FaultInjector {
  private random: SeededRandom;
  readonly injected = new Map<FaultKind, number>();

  constructor(public options: FaultOptions | undefined) {
    this.random = new SeededRandom(options?.seed ?? 1);
  }

  set(options: FaultOptions | undefined): void {
    this.options = options;
    this.random = new SeededRandom(options?.seed ?? 1);
  }

  pick(traits: RouteTraits): FaultKind | undefined {
    const o = this.options;
    if (!o || o.rate <= 0 || this.random.next() >= o.rate) return undefined;
    const eligible = o.kinds.filter((k) => (k === 'gone' ? traits.deltaWithToken : k === 'expireDownloadUrl' ? traits.download : true));
    if (eligible.length === 0) return undefined;
    const kind = eligible[Math.floor(this.random.next() * eligible.length)]!;
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
    return kind;
  }

  retryAfterHeader(): string {
    const r = this.options?.retryAfter ?? 1;
    return r === 'date' ? new Date(Date.now() + 1000).toUTCString() : String(r);
  }
}
