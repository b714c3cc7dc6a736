/**
 * Bounded retries with capped exponential backoff and full jitter, honouring
 * `Retry-After`, within an overall deadline. Used by every network backend.
 *
 * @module
 */

import { ToolError } from "./errors.ts";
import { watchdog } from "./watchdog.ts";

/** Thrown by an attempt to ask for another try (throttling, 5xx, a truncated body). */
export class RetryableError extends Error {
  /** How long the server asked us to wait, in milliseconds, if it said. */
  readonly retryAfterMs?: number;

  /** Create a retryable failure with its cause and an optional server-requested delay. */
  constructor(message: string, retryAfterMs?: number) {
    super(message);
    this.name = "RetryableError";
    this.retryAfterMs = retryAfterMs;
  }
}

/** How to retry. */
export interface RetryOptions {
  /** Names the backend and operation in the final error, e.g. `AWS Secrets Manager ListSecrets`. */
  operation: string;
  /** When to give up, in epoch milliseconds. */
  deadline: number;
  /** Per-attempt timeout in milliseconds. */
  timeoutMs: number;
  /** Most attempts in all (default 8). */
  attempts?: number;
  /** First backoff step in milliseconds (default 100). */
  baseMs?: number;
  /** Longest backoff step in milliseconds (default 5000). */
  capMs?: number;
  /** Aborts waiting and the attempt in flight. */
  signal?: AbortSignal;
  /** Called before each retry, for `--verbose` lines and adaptive concurrency. */
  onRetry?: (cause: string, attempt: number, delayMs: number) => void;
}

/** Parse a `Retry-After` header (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Whether an error thrown by `fetch` is a network failure worth retrying. */
export function isNetworkError(error: unknown): boolean {
  if (error instanceof TypeError) return true; // connection refused, reset, bad body
  if (error instanceof DOMException) return error.name === "TimeoutError";
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.TimedOut;
}

function stoppedAtDeadline(operation: string, lastCause: string): ToolError {
  return new ToolError(
    "backend",
    `${operation}: stopped at the overall deadline (SECRETS_TIMEOUT); last cause: ${lastCause}`,
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Run `attempt` until it succeeds, retrying on {@linkcode RetryableError} and network
 * errors. Any other error (an `ToolError` (auth), a `ToolError` (backend) for a 404) ends at once.
 * The attempt receives a signal that aborts after the per-attempt timeout.
 *
 * @example
 * ```ts
 * const body = await withRetry(async (signal) => {
 *   const res = await fetch(url, { signal });
 *   if (res.status === 429 || res.status >= 500) {
 *     throw new RetryableError(`HTTP ${res.status}`, retryAfterMs(res));
 *   }
 *   return await res.json();
 * }, { operation: "Example GET", deadline: Date.now() + 60_000, timeoutMs: 30_000 });
 * ```
 */
export async function withRetry<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const attempts = options.attempts ?? 8;
  const base = options.baseMs ?? 100;
  const cap = options.capMs ?? 5000;
  let lastCause = "no attempt made";
  for (let n = 1; n <= attempts; n++) {
    const left = options.deadline - Date.now();
    if (left <= 0) break;
    // One controller per attempt, unwatched and its listener removed as soon as the
    // attempt settles, so thousands of finished requests hold no timers or signals.
    const controller = new AbortController();
    let timedOut = false;
    const unwatch = watchdog(Math.min(options.timeoutMs, left), () => {
      timedOut = true;
      controller.abort(new DOMException("request timed out", "TimeoutError"));
    });
    const onAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    try {
      return await attempt(controller.signal);
    } catch (error) {
      if (options.signal?.aborted) throw stoppedAtDeadline(options.operation, lastCause);
      if (error instanceof ToolError) throw error;
      if (error instanceof RetryableError) {
        lastCause = error.message;
      } else if (isNetworkError(error) || timedOut) {
        lastCause = timedOut
          ? `no answer within ${options.timeoutMs / 1000}s (SECRETS_REQUEST_TIMEOUT)`
          : `network error: ${(error as Error).message.split("\n")[0]}`;
      } else {
        throw error;
      }
      if (n === attempts) break;
      const backoff = Math.random() * Math.min(cap, base * 2 ** (n - 1));
      const wanted = error instanceof RetryableError && error.retryAfterMs !== undefined
        ? Math.max(error.retryAfterMs, backoff)
        : backoff;
      const delay = Math.min(wanted, Math.max(0, options.deadline - Date.now()));
      options.onRetry?.(lastCause, n, delay);
      try {
        await sleep(delay, options.signal);
      } catch {
        throw stoppedAtDeadline(options.operation, lastCause);
      }
    } finally {
      unwatch();
      options.signal?.removeEventListener("abort", onAbort);
    }
  }
  throw new ToolError(
    "backend",
    `${options.operation} failed after retries; last cause: ${lastCause}. Check the backend's health and your network, then run again`,
  );
}
