/**
 * Following a paged AWS listing (`ListSecrets`, `DescribeParameters`): each next page is
 * asked for before the current one is handed on, so the chain of pages, the floor of a
 * load, never waits for the work a page starts. A repeated `NextToken` or too many entries
 * stop the chain at once (`lib/kit/paging.ts`).
 *
 * @module
 */

import { pageTokens } from "../../lib/kit/paging.ts";

/** What {@linkcode followPages} needs. */
export interface PageChain<P> {
  /** Names the call in errors, e.g. `AWS Secrets Manager ListSecrets`. */
  operation: string;
  /** Ask for the page after `token` (the first page without one). */
  request(token?: string): Promise<P>;
  /** How many entries a page lists. */
  entries(page: P): number;
  /** Handle one page (called in order, after its successor was asked for). */
  onPage(page: P): void;
  /** Record a failure that ends the chain (the caller rethrows it when its work is done). */
  fail(error: unknown): void;
  /** Whether a failure was recorded: no further page is asked for. */
  failed(): boolean;
}

/** Follow every page of a listing; a failed page request rejects. */
export async function followPages<P extends { NextToken?: string }>(
  chain: PageChain<P>,
): Promise<void> {
  const pages = pageTokens(chain.operation, "NextToken");
  let pending: Promise<P> | undefined = chain.request();
  while (pending) {
    const page: P = await pending;
    let token = page.NextToken || undefined;
    try {
      pages.count(chain.entries(page));
      if (token) pages.follow(token);
    } catch (error) {
      chain.fail(error);
      token = undefined;
    }
    pending = token && !chain.failed() ? chain.request(token) : undefined;
    pending?.catch(() => {}); // rethrown when awaited
    chain.onPage(page);
  }
}
