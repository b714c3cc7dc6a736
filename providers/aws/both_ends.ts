/**
 * Following a listing from both ends: `ListSecrets` sorted by name, ascending from the first
 * page and, once that page says there is more, descending from the last, the two chains
 * advancing a page each per round. A prefix and a suffix of one order that share a name
 * cover the whole listing, whatever the service's collation, so the listing is complete at
 * the first name both chains have listed, or when either chain ends; the chain of
 * dependent pages is then about half as long (6 pages instead of 10 for 1,000 secrets).
 *
 * The service is not trusted to sort. Each chain checks that its names strictly rise (or
 * fall), and the descending chain must not start inside the first ascending page (a service
 * that ignored the order would list the same page twice); at the first doubt the descending
 * chain stops and the ascending one is followed to its end alone, which is a complete
 * listing in any order. A service that rejects the sort fields gets the plain listing.
 *
 * @module
 */

import { type PageTokens, pageTokens } from "../../lib/kit/paging.ts";
import { followPages, nextTurn } from "./pages.ts";

/** The direction of a sorted chain. */
export type ListOrder = "asc" | "desc";

/** What {@linkcode followBothEnds} needs. */
export interface BothEnds<P, E> {
  /** Names the call in errors, e.g. `AWS Secrets Manager ListSecrets`. */
  operation: string;
  /** Ask for the page after `token` in `order` (undefined: the service's own order). */
  request(order: ListOrder | undefined, token?: string): Promise<P>;
  /** The entries of a page, in the page's order. */
  entries(page: P): readonly E[];
  /** The name an entry is sorted by (entries without one are dropped). */
  nameOf(entry: E): string | undefined;
  /** Hand on entries not listed before (in order, after the next pages were sent). */
  onEntries(entries: E[]): void;
  /** Whether the first sorted request failed because the service rejects the sort fields. */
  sortRejected(error: unknown): boolean;
  /** Record a failure that ends the listing (the caller rethrows it when its work is done). */
  fail(error: unknown): void;
  /** Whether a failure was recorded: no further page is asked for. */
  failed(): boolean;
}

interface Chain {
  order: ListOrder;
  /** 1 for the ascending chain, 2 for the descending one (bits of `seenBy`). */
  bit: 1 | 2;
  tokens: PageTokens;
  /** The next page's token, if there is one to follow. */
  token?: string;
  /** The last name listed, which the next must follow in the chain's order. */
  last?: string;
  pages: number;
}

/** Follow a listing from both ends until it is complete; a failed page request rejects. */
export async function followBothEnds<P extends { NextToken?: string }, E>(
  list: BothEnds<P, E>,
): Promise<void> {
  let first: P;
  try {
    first = await list.request("asc");
  } catch (error) {
    if (!list.sortRejected(error)) throw error;
    return await followPages<P>({
      operation: list.operation,
      request: (token) => list.request(undefined, token),
      entries: (page) => list.entries(page).length,
      fail: (error) => list.fail(error),
      failed: () => list.failed(),
      onPage: (page) =>
        list.onEntries(list.entries(page).filter((e) => list.nameOf(e) !== undefined)),
    });
  }
  const asc: Chain = {
    order: "asc",
    bit: 1,
    tokens: pageTokens(list.operation, "NextToken"),
    pages: 0,
  };
  const desc: Chain = {
    order: "desc",
    bit: 2,
    tokens: pageTokens(`${list.operation} (descending)`, "NextToken"),
    pages: 0,
  };
  const seenBy = new Map<string, number>();
  const ascFirst = new Set<string>();
  let twoEnded = true;
  let round: [Chain, P][] = [[asc, first]];
  for (;;) {
    const fresh: E[] = [];
    let met = false;
    let done = false;
    for (const [chain, page] of round) {
      const entries = list.entries(page);
      chain.token = page.NextToken || undefined;
      try {
        asc.tokens.count(entries.length); // one count for both chains
        if (chain.token) chain.tokens.follow(chain.token);
      } catch (error) {
        list.fail(error);
        chain.token = undefined;
      }
      // A chain followed from its first page to its last is the whole listing on its own.
      if (!page.NextToken) done = true;
      let leading = true;
      for (const entry of entries) {
        const name = list.nameOf(entry);
        if (name === undefined) continue;
        if (chain === asc && chain.pages === 0) ascFirst.add(name);
        // The largest name cannot be on a first page that said there was more.
        if (chain === desc && chain.pages === 0 && leading && ascFirst.has(name)) {
          twoEnded = false;
        }
        leading = false;
        const inOrder = chain.last === undefined ||
          (chain.order === "asc" ? name > chain.last : name < chain.last);
        if (!inOrder) twoEnded = false;
        chain.last = name;
        const bits = seenBy.get(name) ?? 0;
        if (bits === 0) fresh.push(entry);
        else if (bits & (3 - chain.bit)) met = true;
        seenBy.set(name, bits | chain.bit);
      }
      chain.pages++;
    }
    done ||= met && twoEnded;
    const requests: [Chain, Promise<P>][] = [];
    if (!done && !list.failed()) {
      if (asc.token) requests.push([asc, list.request("asc", asc.token)]);
      if (twoEnded && desc.pages === 0 && asc.pages === 1 && asc.token) {
        requests.push([desc, list.request("desc")]);
      } else if (twoEnded && desc.token) {
        requests.push([desc, list.request("desc", desc.token)]);
      }
    }
    for (const [, request] of requests) request.catch(() => {}); // rethrown when awaited
    // The next pages go on the wire before the work this round's entries start.
    if (requests.length > 0) await nextTurn();
    list.onEntries(fresh);
    if (requests.length === 0) return;
    round = [];
    for (const [chain, request] of requests) round.push([chain, await request]);
  }
}
