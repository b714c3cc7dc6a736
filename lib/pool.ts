/**
 * Bounded concurrency: run async work over items with at most `limit` in flight, failing
 * fast on the first error.
 *
 * @module
 */

/**
 * Run `fn` for every item with at most `limit` calls in flight. On the first failure no
 * new calls start; the in-flight ones are awaited and the first error is thrown.
 *
 * @example
 * ```ts
 * await forEachConcurrent(["a", "b", "c"], 2, async (name) => {
 *   await fetch(`http://127.0.0.1:8200/${name}`);
 * });
 * ```
 */
export async function forEachConcurrent<T>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for await (const item of items) {
    if (failure) break;
    const task: Promise<void> = fn(item).catch((error) => {
      failure ??= { error };
    }).finally(() => running.delete(task));
    running.add(task);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure) throw failure.error;
}

/** A semaphore: `run` waits for a free slot, so at most `limit` tasks run at once. */
export interface Limiter {
  /** Run `fn` when a slot is free. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Tasks running now. */
  readonly active: number;
}

/** Create a {@linkcode Limiter} with `limit` slots. */
export function createLimiter(limit: number): Limiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    get active() {
      return active;
    },
    async run<T>(fn: () => Promise<T>): Promise<T> {
      // A finishing task hands its slot straight to the next waiter, so `active` never
      // exceeds `limit` even when new callers arrive in between.
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      else active++;
      try {
        return await fn();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else active--;
      }
    },
  };
}
