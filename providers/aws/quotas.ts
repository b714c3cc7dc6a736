/**
 * The documented default request quotas of the AWS APIs the tool calls, as rate gates
 * shared by one load, so a load never sends more than AWS allows and backs off when
 * throttled anyway (other clients in the account share the quota).
 *
 * @module
 */

import {
  type AdaptiveLimiter,
  createRateGate,
  type RateGate,
  type RateLimit,
} from "../../lib/kit/limiters.ts";

/**
 * Secrets Manager quotas (per account and region): ListSecrets 100/s,
 * BatchGetSecretValue 100/s, GetSecretValue and DescribeSecret 10,000/s combined.
 */
export const SECRETS_MANAGER_QUOTAS: Readonly<Record<string, RateLimit>> = {
  ListSecrets: { limit: 100, windowMs: 1000 },
  BatchGetSecretValue: { limit: 100, windowMs: 1000 },
  GetSecretValue: { limit: 10_000, windowMs: 1000 },
};

/**
 * Parameter Store default throughput: 40/s shared by GetParameter, GetParameters and
 * GetParametersByPath. (DescribeParameters has no documented quota.)
 */
export const SSM_SHARED_QUOTA: RateLimit = { limit: 40, windowMs: 1000 };

/**
 * Parameter Store throughput setting of the account and region (`SECRETS_AWS_SSM_THROUGHPUT`):
 * `standard` (the default) or `higher` (enabled in the Parameter Store settings).
 */
export type SsmThroughput = "standard" | "higher";

/** The Parameter Store quotas of one throughput setting, and which one an operation uses. */
export interface SsmQuotas {
  /** The rate of each quota, by quota name. */
  quotas: Readonly<Record<string, RateLimit>>;
  /** The quota an operation counts against (undefined: none documented). */
  quotaOf: QuotaOf;
}

const valueRead = (operation: string) =>
  operation === "GetParameter" || operation === "GetParameters";

/**
 * The documented Parameter Store throughput quotas (per account and region). Standard:
 * 40/s shared by GetParameter, GetParameters and GetParametersByPath. Higher: 3,000/s
 * shared by GetParameter and GetParameters, and 100/s for GetParametersByPath.
 */
export const SSM_QUOTAS: Readonly<Record<SsmThroughput, SsmQuotas>> = {
  standard: {
    quotas: { shared: SSM_SHARED_QUOTA },
    quotaOf: (operation) =>
      valueRead(operation) || operation === "GetParametersByPath" ? "shared" : undefined,
  },
  higher: {
    quotas: {
      values: { limit: 3000, windowMs: 1000 },
      byPath: { limit: 100, windowMs: 1000 },
    },
    quotaOf: (operation) =>
      valueRead(operation) ? "values" : operation === "GetParametersByPath" ? "byPath" : undefined,
  },
};

/** Which quota an operation counts against, by name. */
export type QuotaOf = (operation: string) => string | undefined;

/** The gates and throttle hook a JSON client needs, over `quotas`. */
export function quotaGates(
  quotas: Readonly<Record<string, RateLimit>>,
  quotaOf: QuotaOf,
  limiter: AdaptiveLimiter,
): { gate: (operation: string) => RateGate | undefined; onThrottle: (operation: string) => void } {
  const gates = new Map<string, RateGate>(
    Object.entries(quotas).map(([name, rate]) => [name, createRateGate(rate)]),
  );
  const gate = (operation: string) => {
    const quota = quotaOf(operation);
    return quota === undefined ? undefined : gates.get(quota);
  };
  return {
    gate,
    onThrottle(operation) {
      limiter.throttled();
      gate(operation)?.throttled();
    },
  };
}
