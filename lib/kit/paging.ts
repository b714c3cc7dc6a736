/**
 * Paging that goes in circles: a service (or something posing as it) that hands back a
 * page token or next link it already gave would keep a listing running until the overall
 * deadline. Every token a listing follows is remembered, and a repeat ends it at once.
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

/** The tokens one listing has followed. */
export interface PageTokens {
  /** Record `token` as the next page to ask for; throws when it was followed before. */
  follow(token: string): void;
}

/**
 * Track the page tokens of one listing: `operation` names the call and `field` the
 * token's name in the answer (`NextToken`, `nextLink`), both for the error message.
 */
export function pageTokens(operation: string, field: string): PageTokens {
  const seen = new Set<string>();
  return {
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
