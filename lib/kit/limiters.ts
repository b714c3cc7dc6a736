/**
 * Bounded concurrency: run async work over items with at most `limit` in flight, failing
 * fast on the first error; read a slow source ahead of its consumer; limit and pace calls.
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

/**
 * Pull `source` ahead of its consumer, keeping up to `size` items in a buffer: a source
 * whose next item needs a round trip (a list page) keeps going while the consumer is
 * busy, and stops only when the buffer is full. The source's error is thrown after the
 * items read before it. When the consumer stops early, the source is closed once its
 * pending item arrives, without making the consumer wait for it.
 *
 * @example
 * ```ts
 * // List pages keep coming while 32 reads are in flight.
 * await forEachConcurrent(readAhead(listSecrets(client), 128), 32, (item) => read(item));
 * ```
 */
export async function* readAhead<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T> {
  const buffer: T[] = [];
  let finished = false;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const wake = () => {
    wakeConsumer?.();
    wakeConsumer = undefined;
  };
  (async () => {
    try {
      for await (const item of source) {
        buffer.push(item);
        wake();
        if (buffer.length >= size) await new Promise<void>((resolve) => wakeProducer = resolve);
        if (stopped) break;
      }
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      wake();
    }
  })();
  try {
    while (true) {
      if (buffer.length > 0) {
        const item = buffer.shift()!;
        wakeProducer?.();
        wakeProducer = undefined;
        yield item;
      } else if (failure) {
        throw failure.error;
      } else if (finished) {
        return;
      } else {
        await new Promise<void>((resolve) => wakeConsumer = resolve);
      }
    }
  } finally {
    // The producer may be waiting for a round trip: it stops (and closes the source) when
    // that settles; its errors end up in `failure`, which nobody reads any more.
    stopped = true;
    wakeProducer?.();
  }
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

/** A rate limit: at most `limit` requests in any `windowMs` (e.g. 100 a second). */
export interface RateLimit {
  /** Requests allowed per window. */
  limit: number;
  /** The window, in milliseconds. */
  windowMs: number;
}

/**
 * A {@linkcode Limiter} whose limit adapts (AIMD): {@linkcode AdaptiveLimiter.throttled}
 * halves it, each call that completes without a throttling signal adds `1/limit` back,
 * so it recovers to the maximum in about one round of calls.
 */
export interface AdaptiveLimiter extends Limiter {
  /** Report a throttling answer (HTTP 429, `ThrottlingException`). */
  throttled(): void;
  /** The current limit (between 1 and the maximum). */
  readonly limit: number;
}

/** Run `fn`, then `settle` with the time it took (by `now`), whether it failed or not. */
async function timed<T>(
  now: () => number,
  fn: () => Promise<T>,
  settle: (elapsedMs: number) => void,
): Promise<T> {
  const start = now();
  try {
    return await fn();
  } finally {
    settle(now() - start);
  }
}

/** Create an {@linkcode AdaptiveLimiter} starting at (and never above) `max` slots. */
export function createAdaptiveLimiter(
  max: number,
  now: () => number = performance.now.bind(performance),
): AdaptiveLimiter {
  let window = max;
  let active = 0;
  let epoch = 0;
  const decrease = onePerRound(now);
  const waiting: (() => void)[] = [];
  const pump = () => {
    while (waiting.length > 0 && active < Math.floor(window)) {
      active++;
      waiting.shift()!();
    }
  };
  return {
    get active() {
      return active;
    },
    get limit() {
      return Math.floor(window);
    },
    throttled() {
      if (!decrease.allowed()) return;
      epoch++;
      window = Math.max(1, window / 2);
    },
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (active < Math.floor(window) && waiting.length === 0) active++;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      const started = epoch;
      return await timed(now, fn, (elapsed) => {
        active--;
        decrease.observe(elapsed);
        // Calls started before a decrease report the old overload: no increase for them.
        if (epoch === started) window = Math.min(max, window + 1 / window);
        pump();
      });
    },
  };
}

/**
 * Paces requests under a documented rate limit. A request holds its place in the window
 * from when it is sent until `windowMs` after its answer arrived, so the server (which
 * sees each request between those two instants) never counts more than the limit in any
 * window, whatever the latency. The effective limit adapts like
 * {@linkcode createAdaptiveLimiter}: halved on throttling, recovering by one per answer.
 */
export interface RateGate {
  /** Wait for a place in the window, then run one request. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Report a throttling answer: the effective limit is halved. */
  throttled(): void;
  /** The current effective limit per window. */
  readonly limit: number;
}

/** Create a {@linkcode RateGate} for `rate`; `now` is for tests. */
export function createRateGate(
  rate: RateLimit,
  now: () => number = performance.now.bind(performance),
): RateGate {
  let share = rate.limit;
  const decrease = onePerRound(now);
  let inFlight = 0;
  // Expiry times of finished requests, ascending (answers are pushed as they arrive).
  const expiries: number[] = [];
  let head = 0;
  const waiting: (() => void)[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const counted = () => {
    const t = now();
    while (head < expiries.length && expiries[head] <= t) head++;
    if (head > 1024 && head * 2 > expiries.length) {
      expiries.splice(0, head);
      head = 0;
    }
    return inFlight + expiries.length - head;
  };
  const pump = () => {
    while (waiting.length > 0 && counted() < Math.floor(share)) {
      inFlight++;
      waiting.shift()!();
    }
    if (waiting.length > 0 && timer === undefined && head < expiries.length) {
      timer = setTimeout(() => {
        timer = undefined;
        pump();
      }, Math.max(0, expiries[head] - now()));
    }
  };
  return {
    get limit() {
      return Math.floor(share);
    },
    throttled() {
      if (decrease.allowed()) share = Math.max(1, share / 2);
    },
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (waiting.length === 0 && counted() < Math.floor(share)) inFlight++;
      else {
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          pump();
        });
      }
      return await timed(now, fn, (elapsed) => {
        inFlight--;
        decrease.observe(elapsed);
        expiries.push(now() + rate.windowMs);
        share = Math.min(rate.limit, share + 1);
        pump();
      });
    },
  };
}

/**
 * Allows one multiplicative decrease per round trip (as TCP does): the throttling answers
 * of one burst report the same overload, so they count once.
 */
function onePerRound(now: () => number): { allowed(): boolean; observe(ms: number): void } {
  // Until a call has been timed, a round is taken to be 100 ms.
  let roundMs = 0;
  let last = -Infinity;
  return {
    allowed() {
      const t = now();
      if (t - last < (roundMs || 100)) return false;
      last = t;
      return true;
    },
    observe(ms) {
      roundMs = roundMs === 0 ? ms : roundMs * 0.875 + ms * 0.125;
    },
  };
}
