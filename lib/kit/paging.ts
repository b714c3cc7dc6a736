/**
 * Listings a service could make endless: a page token or next link it already gave would
 * keep a listing running until the overall deadline, and pages without end would pile up
 * work until memory runs out. Every token a listing follows is remembered, and a repeat
 * ends it at once; the entries listed are counted against {@linkcode MAX_LISTED_ENTRIES}.
 *
 * @example
 * ```ts
 * const seen = pageTokens("AWS Secrets Manager ListSecrets", "NextToken");
 * seen.follow("token-1"); // fine
 * seen.follow("token-1"); // throws a backend ToolError: the paging repeats
 * ```
 *
 * @module
 */

import { ToolError } from "./errors.ts";

/**
 * Most entries one listing may return in all: far more than any real selection (the
 * services' own quotas put a million secrets out of reach of one job), few enough that
 * the names and the work queued for them stay within memory.
 */
export const MAX_LISTED_ENTRIES = 1_000_000;

/** The tokens one listing has followed, and the entries it returned. */
export interface PageTokens {
  /** Record `token` as the next page to ask for; throws when it was followed before. */
  follow(token: string): void;
  /** Count `entries` more listed entries; throws past {@linkcode MAX_LISTED_ENTRIES}. */
  count(entries: number): void;
}

/**
 * Track the page tokens of one listing: `operation` names the call and `field` the
 * token's name in the answer (`NextToken`, `nextLink`), both for the error message.
 */
export function pageTokens(operation: string, field: string): PageTokens {
  const seen = new Set<string>();
  let listed = 0;
  return {
    count(entries) {
      listed += entries;
      if (listed <= MAX_LISTED_ENTRIES) return;
      throw new ToolError(
        "backend",
        `${operation}: the listing returned more than ${
          MAX_LISTED_ENTRIES.toLocaleString("en-US")
        } entries, the most one run reads; select fewer secrets with SECRETS_SELECTION`,
      );
    },
    follow(token) {
      if (seen.has(token)) {
        throw new ToolError(
          "backend",
          `${operation}: the paging repeats (page ${
            seen.size + 1
          } returned a ${field} already followed), so the listing would never end; this is a fault of the service or of a proxy in front of it, so run again later or report it`,
        );
      }
      seen.add(token);
    },
  };
}
