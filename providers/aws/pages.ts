/**
 * Following a paged AWS listing (`ListSecrets`, `DescribeParameters`): each next page is
 * asked for before the current one is handed on, and the page is handed on only after the
 * event loop has had a turn, so the request is on the wire before the work the page starts
 * (signing and handing over its value reads): the chain of pages, the floor of a load,
 * never waits for it. A repeated `NextToken` or too many entries stop the chain at once
 * (`lib/kit/paging.ts`).
 *
 * @module
 */

import { pageTokens } from "../../lib/kit/paging.ts";
import { schedule } from "../../lib/kit/timers.ts";

/** What {@linkcode followPages} needs. */
export interface PageChain<P> {
  /** Names the call in errors, e.g. `AWS Secrets Manager ListSecrets`. */
  operation: string;
  /** Ask for the page after `token` (the first page without one). */
  request(token?: string): Promise<P>;
  /** How many entries a page lists. */
  entries(page: P): number;
  /** Handle one page (called in order, after its successor was sent). */
  onPage(page: P): void;
  /** Record a failure that ends the chain (the caller rethrows it when its work is done). */
  fail(error: unknown): void;
  /** Whether a failure was recorded: no further page is asked for. */
  failed(): boolean;
}

/**
 * A turn of the event loop. `fetch` hands a request to the HTTP client, whose connection
 * task writes it only when this isolate's event loop waits; until then microtasks and the
 * rest of the current task run first. A zero timeout waits for the timers' next tick (1 to
 * 2 ms), not for the shortest wait there is (a message to itself, about 0.1 ms): the page's
 * value reads then leave that much after the next page, so their answers do not arrive in
 * the middle of its handling either (measured: the chain was slower with the shorter turn).
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => schedule(0, resolve));
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
    if (pending) await nextTurn();
    chain.onPage(page);
  }
}
