/**
 * Runs `fn` over `items` with at most `limit` calls in flight, in order of start; rejects on the
 * first failure. The one bounded-concurrency loop used for Table batches, lookups and GETs.
 */
export async function forEachConcurrent<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
