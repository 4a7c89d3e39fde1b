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

/** The services whose writes a refusal can target, named as the restore names them. */
export type WriteService = 'onedrive' | 'mail' | 'calendar' | 'contacts';

const SERVICE_OF_SEGMENT: Record<string, WriteService> = {
  drive: 'onedrive',
  messages: 'mail',
  mailFolders: 'mail',
  calendar: 'calendar',
  calendars: 'calendar',
  events: 'calendar',
  contacts: 'contacts',
  contactFolders: 'contacts',
};

/**
 * Fault knob for restores: writes (any method but GET) of one service for one user answer 403, as
 * an Exchange application access policy or a locked OneDrive would. Reads still answer, so the
 * restore's collision checks run and its one part fails while every other part goes on.
 */
export class WriteRefusals {
  private readonly refused = new Set<string>();

  /** `userId` is the Graph id; `on` false lifts the refusal. */
  set(userId: string, service: WriteService, on: boolean): void {
    if (on) this.refused.add(`${userId}|${service}`);
    else this.refused.delete(`${userId}|${service}`);
  }

  /** Whether this request is a refused write; `idOf` resolves the path's user (id or UPN) to its id. */
  refuses(method: string, pathname: string, idOf: (user: string) => string | undefined): boolean {
    if (this.refused.size === 0 || method.toUpperCase() === 'GET') return false;
    const m = /^\/(?:v1\.0|beta)\/users\/([^/]+)\/([^/]+)/.exec(pathname);
    const service = m ? SERVICE_OF_SEGMENT[m[2]!] : undefined;
    if (!m || !service) return false;
    const id = idOf(decodeURIComponent(m[1]!));
    return id !== undefined && this.refused.has(`${id}|${service}`);
  }
}
