import { MAX_BATCH, type RowOperation } from '../storage';

const partitionOf = (op: RowOperation) => (op.kind === 'delete' ? op.partitionKey : op.row.partitionKey);

/**
 * Collects row operations per partition and writes each partition's in full 100-operation
 * transactions as they fill, a few at a time in the background; close() writes the rest.
 * The operations of one call to add() stay together in one transaction where they fit.
 */
export class RowBatcher {
  private readonly pending = new Map<string, RowOperation[]>();
  private readonly inflight = new Set<Promise<void>>();
  private failure: unknown;
  /** Keeps transactions starting in the order they were filled. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (ops: RowOperation[]) => Promise<void>,
    private readonly concurrency = 4,
  ) {}

  add(ops: RowOperation[]): void {
    if (this.failure) throw this.failure;
    if (ops.length === 0) return;
    const pk = partitionOf(ops[0]!);
    let list = this.pending.get(pk);
    if (!list) this.pending.set(pk, (list = []));
    if (list.length + ops.length > MAX_BATCH) {
      this.send(list);
      this.pending.set(pk, (list = []));
    }
    list.push(...ops);
  }

  private send(ops: RowOperation[]): void {
    if (ops.length === 0) return;
    const start = async () => {
      while (this.inflight.size >= this.concurrency) await Promise.race(this.inflight);
      const p: Promise<void> = this.write(ops)
        .catch((e: unknown) => {
          this.failure ??= e;
        })
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    };
    this.queue = this.queue.then(start);
  }

  async close(): Promise<void> {
    for (const list of this.pending.values()) this.send(list);
    this.pending.clear();
    await this.queue;
    await Promise.all(this.inflight);
    if (this.failure) throw this.failure;
  }
}
