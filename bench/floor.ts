/**
 * The round-trip floor of a load: the least time the API allows, given its page and
 * batch sizes, the tool's default concurrency and the documented rate limits, at a given
 * latency per request. Each floor comes with the formula that gives it.
 *
 * @module
 */

/** A floor and how it was computed. */
export interface Floor {
  /** Milliseconds. */
  ms: number;
  /** The formula with the numbers filled in. */
  formula: string;
}

/**
 * The least time to send `requests` requests with `concurrency` in flight at `latencyMs`
 * each, when at most `limit` may be sent in any `windowMs`: full windows are waited out,
 * the rest goes at the concurrency's pace.
 */
export function paced(
  requests: number,
  concurrency: number,
  latencyMs: number,
  limit = Infinity,
  windowMs = 0,
): number {
  if (requests <= 0) return 0;
  const windows = Number.isFinite(limit) ? Math.ceil(requests / limit) : 1;
  const rest = windows === 1 ? requests : requests - (windows - 1) * limit;
  return (windows - 1) * windowMs + Math.ceil(rest / concurrency) * latencyMs;
}

const ceil = Math.ceil;

/** Secrets Manager: ListSecrets 100 a page (100/s), BatchGetSecretValue 20 ids (100/s). */
export function secretsManagerFloor(n: number, latencyMs: number, concurrency: number): Floor {
  const pages = ceil(n / 100);
  const batches = ceil(n / 20);
  const listing = (pages + 1) * latencyMs;
  const values = paced(batches, concurrency, latencyMs, 100, 1000);
  return {
    ms: Math.max(listing, values),
    formula: `max((⌈N/100⌉+1)·L, batches(⌈N/20⌉=${batches}, ${concurrency} at once, 100/s)) = max(${
      pages + 1
    }·L, ${values} ms)`,
  };
}

/**
 * Secrets Manager as the tool lists it, sorted by name from both ends: round r brings the
 * ascending page r and the descending page r - 1, and the listing is complete when they
 * share a name or a chain ends, so the chain is min(⌈N/100⌉, ⌊(N+100)/200⌋+1) pages, then
 * the last batches. The floor ({@linkcode secretsManagerFloor}) is the one chain.
 */
export function secretsManagerBothEndsFloor(
  n: number,
  latencyMs: number,
  concurrency: number,
): Floor {
  const rounds = n <= 100 ? 1 : Math.min(ceil(n / 100), Math.floor((n + 100) / 200) + 1);
  const batches = ceil(n / 20);
  const listing = (rounds + 1) * latencyMs;
  const values = paced(batches, concurrency, latencyMs, 100, 1000);
  return {
    ms: Math.max(listing, values),
    formula:
      `max((min(⌈N/100⌉, ⌊(N+100)/200⌋+1)+1)·L, batches(${batches}, ${concurrency} at once, 100/s)) = max(${
        rounds + 1
      }·L, ${values} ms)`,
  };
}

/**
 * SSM: DescribeParameters 50 a page, GetParameters 10 names; at `standard` throughput 40/s
 * shared, at `higher` 3,000/s.
 */
export function ssmFloor(
  n: number,
  latencyMs: number,
  concurrency: number,
  throughput: "standard" | "higher" = "standard",
): Floor {
  const rate = throughput === "standard" ? 40 : 3000;
  const pages = ceil(n / 50);
  const gets = ceil(n / 10);
  const listing = (pages + 1) * latencyMs;
  const values = paced(gets, concurrency, latencyMs, rate, 1000);
  return {
    ms: Math.max(listing, values),
    formula: `max((⌈N/50⌉+1)·L, gets(⌈N/10⌉=${gets}, ${concurrency} at once, ${rate}/s)) = max(${
      pages + 1
    }·L, ${values} ms)`,
  };
}

/**
 * Key Vault: one token request (IMDS), then list 25 a page and one GET per secret, all
 * within 4,000 transactions per 10 s.
 */
export function keyVaultFloor(n: number, latencyMs: number, concurrency: number): Floor {
  const pages = ceil(n / 25);
  const listing = (pages + 2) * latencyMs;
  const all = latencyMs + paced(n + pages, concurrency, latencyMs, 4000, 10_000);
  return {
    ms: Math.max(listing, all),
    formula: `L (token) + max((⌈N/25⌉+1)·L, requests(N+⌈N/25⌉=${
      n + pages
    }, ${concurrency} at once, 4000/10 s)) = max(${pages + 2}·L, ${all} ms)`,
  };
}

/**
 * Vault KV v2, secrets in folders of 100: the LIST of the base (the mount check rides
 * along), then the LIST of each folder and the GET of each secret at `concurrency` in
 * flight, where no GET can precede its folder's LIST (the first round after the base holds
 * only LISTs); no default rate limit.
 */
export function vaultFloor(n: number, latencyMs: number, concurrency: number): Floor {
  const folders = ceil(n / 100);
  const rounds = Math.max(ceil((folders + n) / concurrency), 1 + ceil(n / concurrency));
  return {
    ms: (1 + rounds) * latencyMs,
    formula: `L + max(⌈(⌈N/100⌉+N)/${concurrency}⌉, 1+⌈N/${concurrency}⌉)·L = ${1 + rounds}·L`,
  };
}

/** The custom script: no API round trip from the tool. */
export function customFloor(): Floor {
  return { ms: 0, formula: "0 (the script's own work; no request from the tool)" };
}
