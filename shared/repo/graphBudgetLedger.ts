import { isBackupError } from '../errors';
import type { StoredRow, TableStore } from '../storage';
import type { Repository } from './repository';

/**
 * The storage side of Graph budgets shared by every process of a tenant (the rules and the
 * contract live in shared/graph: `budgetLedger.ts`, `budgetRules.ts`, `sharedGates.ts`; this file
 * matches `BudgetLedger` structurally, so repo/ does not import graph/).
 *
 * Table `<repository>graphbudget` (created on first use; docs/repository-format.md "Graph budget
 * rows"), PartitionKey = the Graph app and tenant the budget belongs to ("<tenantId>_<clientId>",
 * both public identifiers), RowKey = the budget ("tenant", "teams-messages", or "mb-<32 hex of
 * SHA-256 of the mailbox>" so no address is stored). Properties: `grants` (JSON [[id, at, n] or [id, at, n, last], ...]), `holders`
 * (JSON [[id, slots, want, expires], ...]), `pausedUntil` (epoch ms), `mailboxPauses` (tenant row: JSON [[row key, until], ...],
 * the mailbox pauses still running, at most MAX_MAILBOX_PAUSES), `updated` (epoch ms).
 * Rows hold no secret, no content and nothing that grows with the tenant; they are operational
 * state, not part of a backup: deleting the table only forgets in-flight budgets.
 *
 * Every change is a read and a write with If-Match (create when absent); a conflict reads again.
 */
export interface BudgetRowState {
  grants: { id: string; at: number; n: number; last?: number }[];
  holders: { id: string; slots: number; want: number; expires: number }[];
  pausedUntil: number;
  mailboxPauses?: { key: string; until: number }[];
}

const CONFLICT_ATTEMPTS = 50;

export const graphBudgetTable = (repositoryName: string) => `${repositoryName}graphbudget`;

/** The partition of one app registration's budgets in one Entra tenant (Table keys forbid / \ # ?). */
export const graphBudgetScope = (tenantId: string, clientId: string) => `${tenantId}_${clientId}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 200);

export class GraphBudgetLedger {
  private ready?: Promise<void>;

  constructor(
    private readonly tables: TableStore,
    private readonly table: string,
    private readonly scope: string,
  ) {}

  static forRepository(repo: Repository, scope: string): GraphBudgetLedger {
    return new GraphBudgetLedger(repo.tables, graphBudgetTable(repo.layout.name), scope);
  }

  private ensure(): Promise<void> {
    this.ready ??= this.tables.ensureTable(this.table).catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  async read(key: string): Promise<BudgetRowState> {
    await this.ensure();
    return decode(await this.tables.get(this.table, this.scope, key));
  }

  async update<T>(key: string, change: (state: BudgetRowState) => { next?: BudgetRowState; result: T }): Promise<T> {
    await this.ensure();
    for (let attempt = 1; ; attempt++) {
      const row = await this.tables.get(this.table, this.scope, key);
      const { next, result } = change(decode(row));
      if (!next) return result;
      const encoded = { partitionKey: this.scope, rowKey: key, ...encode(next) };
      try {
        if (row) await this.tables.update(this.table, encoded, row.etag);
        else await this.tables.create(this.table, encoded);
        return result;
      } catch (e) {
        const lost = isBackupError(e, 'PRECONDITION_FAILED') || isBackupError(e, 'ALREADY_EXISTS') || isBackupError(e, 'NOT_FOUND');
        if (!lost || attempt >= CONFLICT_ATTEMPTS) throw e;
        // Another process wrote in between: read its version and apply the change again (jittered, so racers spread out).
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
      }
    }
  }
}

function encode(s: BudgetRowState): Record<string, unknown> {
  return {
    grants: JSON.stringify(s.grants.map((g) => (g.last !== undefined ? [g.id, g.at, g.n, g.last] : [g.id, g.at, g.n]))),
    holders: JSON.stringify(s.holders.map((h) => [h.id, h.slots, h.want, h.expires])),
    pausedUntil: s.pausedUntil,
    ...(s.mailboxPauses?.length ? { mailboxPauses: JSON.stringify(s.mailboxPauses.map((p) => [p.key, p.until])) } : {}),
    updated: Date.now(),
  };
}

/** A row as stored; anything unreadable counts as empty (the budget then starts afresh, never blocks forever). */
function decode(row: StoredRow | undefined): BudgetRowState {
  const list = (v: unknown): unknown[][] => {
    if (typeof v !== 'string') return [];
    try {
      const parsed = JSON.parse(v) as unknown;
      return Array.isArray(parsed) ? parsed.filter((x): x is unknown[] => Array.isArray(x)) : [];
    } catch {
      return [];
    }
  };
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return {
    grants: list(row?.grants).map(([id, at, n, last]) => ({ id: String(id), at: num(at), n: num(n), ...(typeof last === 'number' ? { last } : {}) })),
    holders: list(row?.holders).map(([id, slots, want, expires]) => ({ id: String(id), slots: num(slots), want: num(want), expires: num(expires) })),
    pausedUntil: num(row?.pausedUntil),
    mailboxPauses: list(row?.mailboxPauses).map(([key, until]) => ({ key: String(key), until: num(until) })),
  };
}
