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
  /** The `host:port` the attempts talk to, for network errors that do not name it. */
  target?: string;
  /** What to say when TLS fails, e.g. which parameter names a private CA. */
  tlsHint?: string;
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

/** The kinds of network failure {@linkcode describeNetworkError} tells apart. */
export type NetworkFailure = "dns" | "refused" | "tls" | "timeout" | "reset" | "closed" | "other";

/** Every message in an error's `cause` chain, outermost first (bounded: causes can loop). */
function causeMessages(error: unknown): string[] {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      messages.push(current.message);
      current = current.cause;
    } else {
      messages.push(String(current));
      break;
    }
  }
  return messages;
}

/** Which kind of network failure `error` (from `fetch`) is, from its class and its causes. */
export function classifyNetworkError(error: unknown): NetworkFailure {
  if (error instanceof DOMException && error.name === "TimeoutError") return "timeout";
  if (error instanceof Deno.errors.TimedOut) return "timeout";
  if (error instanceof Deno.errors.ConnectionRefused) return "refused";
  if (error instanceof Deno.errors.ConnectionReset) return "reset";
  if (error instanceof Deno.errors.UnexpectedEof) return "closed";
  // Deno's fetch throws `TypeError: fetch failed` whose cause holds hyper's and rustls's text.
  const text = causeMessages(error).join(" | ").toLowerCase();
  if (
    /dns error|failed to lookup address|name or service not known|no address associated/.test(text)
  ) return "dns";
  if (/connection refused|os error 111/.test(text)) return "refused";
  if (/certificate|\btls\b|\bssl\b|handshake/.test(text)) return "tls";
  if (/timed out|os error 110/.test(text)) return "timeout";
  if (/connection reset|os error 104|broken pipe/.test(text)) return "reset";
  if (/unexpected eof|connection closed|incomplete message|end of file/.test(text)) return "closed";
  return "other";
}

/** The `host:port` named in an error's causes (`error sending request for url (...)`). */
function targetOf(error: unknown): string | undefined {
  for (const message of causeMessages(error)) {
    const match = /for url \((https?:\/\/[^)\s]+)\)/.exec(message);
    if (!match) continue;
    try {
      const url = new URL(match[1]);
      return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
    } catch {
      // not a URL after all: keep looking
    }
  }
  return undefined;
}

/** The detail after the last `: ` of the innermost cause, bounded, e.g. rustls's reason. */
function innermost(error: unknown): string {
  const messages = causeMessages(error);
  const last = (messages.at(-1) ?? "").split("\n")[0];
  return last.slice(last.lastIndexOf(": ") + 1).trim().slice(0, 200);
}

/** Options of {@linkcode networkCause} and {@linkcode describeNetworkError}. */
export interface NetworkErrorOptions {
  /** The `host:port` the request went to, used when the error does not name it. */
  target?: string;
  /** What to say when TLS fails, e.g. which parameter names a private CA. */
  tlsHint?: string;
}

/**
 * What happened, and where (`host:port`), without advice: e.g.
 * `connection to vault:8200 refused (nothing listens there)`.
 */
export function networkCause(error: unknown, options: NetworkErrorOptions = {}): string {
  const target = targetOf(error) ?? options.target ?? "the server";
  const host = target.replace(/:\d+$/, "");
  switch (classifyNetworkError(error)) {
    case "dns":
      return `cannot resolve host ${host} (DNS lookup failed)`;
    case "refused":
      return `connection to ${target} refused (nothing listens there)`;
    case "tls":
      return `TLS handshake with ${target} failed (${innermost(error)})`;
    case "timeout":
      return `connection to ${target} timed out`;
    case "reset":
      return `connection to ${target} was reset by the server or a proxy`;
    case "closed":
      return `${target} closed the connection before a full answer`;
    default:
      return `request to ${target} failed (${innermost(error) || "fetch failed"})`;
  }
}

const ADVICE: Readonly<Record<NetworkFailure, string>> = {
  dns: "check the address and the runner's DNS",
  refused: "check the address and port",
  tls: "the certificate must be valid for this host and trusted by the system roots",
  timeout: "check the address and any firewall",
  reset: "check the address and any proxy between",
  closed: "check the server and any proxy between",
  other: "check the address and your network",
};

/**
 * One line saying where (`host:port`) and why a request failed (DNS, refused, TLS, timeout,
 * reset or closed) and what to check, prefixed `network error:`.
 *
 * @example
 * ```ts
 * describeNetworkError(new Deno.errors.ConnectionRefused("refused"), { target: "vault:8200" });
 * // "network error: connection to vault:8200 refused (nothing listens there); check ..."
 * ```
 */
export function describeNetworkError(error: unknown, options: NetworkErrorOptions = {}): string {
  const kind = classifyNetworkError(error);
  const advice = kind === "tls" && options.tlsHint ? options.tlsHint : ADVICE[kind];
  return `network error: ${networkCause(error, options)}; ${advice}`;
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
      } else if (!timedOut && isNetworkError(error) && classifyNetworkError(error) === "tls") {
        // A certificate that fails to verify fails the same way on every attempt.
        throw new ToolError(
          "backend",
          `${options.operation}: ${describeNetworkError(error, options)}`,
        );
      } else if (isNetworkError(error) || timedOut) {
        lastCause = timedOut
          ? `no answer within ${options.timeoutMs / 1000}s${
            options.target ? ` from ${options.target}` : ""
          } (SECRETS_REQUEST_TIMEOUT)`
          : describeNetworkError(error, options);
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
