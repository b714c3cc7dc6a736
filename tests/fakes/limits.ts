/**
 * Rate-limit enforcement for fakes: wraps a fake's handler so that requests above a
 * documented limit (at most `limit` in any `windowMs`, counted per bucket such as an API
 * operation) get the backend's real throttling answer. Throttled requests do not count
 * against the limit (as Key Vault documents). The answers follow each service:
 * AWS JSON 1.1 `ThrottlingException` with HTTP 400, Key Vault 429 with `Retry-After`,
 * Vault 429 with `errors`.
 *
 * @module
 */

import type { FakeHandler } from "./server.ts";

/** A limit: at most `limit` requests in any `windowMs`. */
export interface RateRule {
  /** Requests allowed per window. */
  limit: number;
  /** The window, in milliseconds. */
  windowMs: number;
}

/** Options of {@linkcode withRateLimit}. */
export interface RateLimitOptions {
  /** The bucket a request counts against (e.g. its operation); undefined: not limited. */
  bucket: (request: Request) => string | undefined;
  /** The limit of each bucket; buckets without a rule are not limited. */
  rules: Record<string, RateRule>;
  /** The throttling answer; `retryAfterMs` is when the bucket has room again. */
  throttled: (bucket: string, retryAfterMs: number) => Response;
}

/** What the limiter saw. */
export interface RateLimitCounters {
  /** Requests admitted, by bucket. */
  admitted: Record<string, number>;
  /** Requests throttled, by bucket. */
  throttled: Record<string, number>;
  /** The most requests admitted in one window, by bucket (never above the rule). */
  peakInWindow: Record<string, number>;
}

/** A handler wrapped with rate limits. */
export interface RateLimited {
  /** The wrapped handler for `startFake`. */
  handler: FakeHandler;
  /** Counters. */
  counters: RateLimitCounters;
}

/** Wrap `handler` so every bucket stays within its rule. */
export function withRateLimit(handler: FakeHandler, options: RateLimitOptions): RateLimited {
  const counters: RateLimitCounters = { admitted: {}, throttled: {}, peakInWindow: {} };
  const seen = new Map<string, { times: number[]; head: number }>();
  return {
    counters,
    handler: (request, info) => {
      const bucket = options.bucket(request);
      const rule = bucket === undefined ? undefined : options.rules[bucket];
      if (bucket === undefined || rule === undefined) return handler(request, info);
      let log = seen.get(bucket);
      if (!log) seen.set(bucket, log = { times: [], head: 0 });
      const now = performance.now();
      while (log.head < log.times.length && log.times[log.head] <= now - rule.windowMs) log.head++;
      const inWindow = log.times.length - log.head;
      if (inWindow >= rule.limit) {
        counters.throttled[bucket] = (counters.throttled[bucket] ?? 0) + 1;
        const retryAfterMs = log.times[log.head] + rule.windowMs - now;
        return options.throttled(bucket, Math.max(0, retryAfterMs));
      }
      log.times.push(now);
      counters.admitted[bucket] = (counters.admitted[bucket] ?? 0) + 1;
      counters.peakInWindow[bucket] = Math.max(counters.peakInWindow[bucket] ?? 0, inWindow + 1);
      return handler(request, info);
    },
  };
}

/** The AWS JSON 1.1 operation of a request (`X-Amz-Target: Prefix.Operation`). */
export function awsOperation(request: Request): string | undefined {
  return request.headers.get("x-amz-target")?.split(".").pop();
}

/** AWS's throttling answer: HTTP 400 with `__type` `ThrottlingException`. */
export function awsThrottled(): Response {
  return new Response(
    JSON.stringify({ __type: "ThrottlingException", message: "Rate exceeded" }),
    { status: 400, headers: { "content-type": "application/x-amz-json-1.1" } },
  );
}

/** Key Vault's throttling answer: 429 `Throttled` with `Retry-After` in seconds. */
export function keyVaultThrottled(_bucket: string, retryAfterMs: number): Response {
  return Response.json({
    error: {
      code: "Throttled",
      message: "Request was not processed because too many requests were received.",
    },
  }, {
    status: 429,
    headers: { "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}

/** Vault's rate-limit quota answer: 429 with `errors` and `Retry-After`. */
export function vaultThrottled(_bucket: string, retryAfterMs: number): Response {
  return Response.json({ errors: ["rate limit quota exceeded"] }, {
    status: 429,
    headers: { "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}

/** The documented default limits (see docs/performance.md). */
export const DOCUMENTED_LIMITS: {
  secretsManager: Record<string, RateRule>;
  ssm: Record<string, RateRule>;
  ssmHigher: Record<string, RateRule>;
  keyVault: Record<string, RateRule>;
} = {
  // AWS Secrets Manager quotas: BatchGetSecretValue 100/s, ListSecrets 100/s,
  // GetSecretValue + DescribeSecret 10,000/s combined.
  secretsManager: {
    ListSecrets: { limit: 100, windowMs: 1000 },
    BatchGetSecretValue: { limit: 100, windowMs: 1000 },
    GetSecretValue: { limit: 10_000, windowMs: 1000 },
  },
  // SSM default throughput: 40/s shared by GetParameter, GetParameters, GetParametersByPath.
  ssm: { shared: { limit: 40, windowMs: 1000 } },
  // SSM higher throughput (enabled per account and region): 3,000/s shared by GetParameter
  // and GetParameters, 100/s for GetParametersByPath.
  ssmHigher: {
    values: { limit: 3000, windowMs: 1000 },
    byPath: { limit: 100, windowMs: 1000 },
  },
  // Key Vault: 4,000 secret transactions per 10 seconds per vault.
  keyVault: { vault: { limit: 4000, windowMs: 10_000 } },
};

/** The SSM bucket of an operation: the three value reads share one. */
export function ssmBucket(request: Request): string | undefined {
  const operation = awsOperation(request);
  return operation === "GetParameter" || operation === "GetParameters" ||
      operation === "GetParametersByPath"
    ? "shared"
    : operation;
}

/** The SSM bucket of an operation at higher throughput: the two by-name reads share one. */
export function ssmHigherBucket(request: Request): string | undefined {
  const operation = awsOperation(request);
  return operation === "GetParameter" || operation === "GetParameters"
    ? "values"
    : operation === "GetParametersByPath"
    ? "byPath"
    : operation;
}

/** The rate-limit options of the SSM fake at one throughput setting, as AWS enforces it. */
export function ssmLimits(throughput: "standard" | "higher"): RateLimitOptions {
  return throughput === "standard"
    ? { bucket: ssmBucket, rules: DOCUMENTED_LIMITS.ssm, throttled: awsThrottled }
    : { bucket: ssmHigherBucket, rules: DOCUMENTED_LIMITS.ssmHigher, throttled: awsThrottled };
}
