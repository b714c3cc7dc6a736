/**
 * Listing Secrets Manager from both ends: the algorithm against listings that sort as asked,
 * by another collation, in their own order or not at all (fast-check), and the tool against
 * the fake in each of those modes, where every secret must reach the vault.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { followBothEnds, type ListOrder } from "../providers/aws/both_ends.ts";
import { awsScenario, SECRET_KEY, testKeys } from "./support/aws.ts";
import { at, readVaultDoc } from "./support/vault.ts";
import {
  type FakeSecret,
  secretsManagerFake,
  type SecretsManagerFakeOptions,
} from "./fakes/aws_secrets_manager.ts";

interface Page {
  names: string[];
  NextToken?: string;
}

type Mode = "binary" | "case-insensitive" | "ignored" | "rejected";

/** A listing service over `names` in `mode`, `size` a page, counting its requests. */
function listing(names: string[], size: number, mode: Mode) {
  const requests: { order?: ListOrder; token?: string }[] = [];
  const fold = (name: string) => mode === "case-insensitive" ? name.toLowerCase() : name;
  const sorted = (order?: ListOrder) => {
    if (mode === "ignored" || order === undefined) return names; // the service's own order
    const up = [...names].sort((a, b) => fold(a) < fold(b) ? -1 : fold(a) > fold(b) ? 1 : 0);
    return order === "asc" ? up : up.reverse();
  };
  return {
    requests,
    request(order: ListOrder | undefined, token?: string): Promise<Page> {
      requests.push({ order, token });
      if (mode === "rejected" && order !== undefined) {
        return Promise.reject(new Error("sort rejected"));
      }
      const all = sorted(order);
      const start = token === undefined ? 0 : Number(token.split(":")[1]);
      const end = start + size;
      return Promise.resolve({
        names: all.slice(start, end),
        ...(end < all.length ? { NextToken: `${order}:${end}` } : {}),
      });
    },
  };
}

async function listAll(names: string[], size: number, mode: Mode) {
  const service = listing(names, size, mode);
  const handed: string[] = [];
  let failure: unknown;
  await followBothEnds<Page, string>({
    operation: "test listing",
    request: service.request,
    entries: (page) => page.names,
    nameOf: (name) => name,
    onEntries: (names) => handed.push(...names),
    sortRejected: (error) => error instanceof Error && error.message === "sort rejected",
    fail: (error) => failure ??= error,
    failed: () => failure !== undefined,
  });
  return { handed, requests: service.requests, failure };
}

const NAME = fc.stringMatching(/^[A-Za-z0-9/_+=.@-]{1,12}$/);

Deno.test("both ends: every name exactly once, whatever the service does with the order", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(NAME, { maxLength: 60 }),
      fc.integer({ min: 1, max: 12 }),
      fc.constantFrom<Mode>("binary", "case-insensitive", "ignored", "rejected"),
      async (names, size, mode) => {
        const { handed, failure } = await listAll(names, size, mode);
        assert.equal(failure, undefined);
        assert.equal(handed.length, new Set(handed).size, "no name handed on twice");
        assert.deepEqual([...handed].sort(), [...names].sort());
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("both ends: a sorted listing takes about half the dependent pages", async () => {
  for (
    const [n, size] of [[1, 100], [100, 100], [101, 100], [250, 100], [1000, 100], [10_000, 100]]
  ) {
    const names = Array.from({ length: n }, (_, i) => `app/s${String(i).padStart(5, "0")}`);
    const { handed, requests } = await listAll(names, size, "binary");
    assert.equal(handed.length, n);
    const pages = Math.ceil(n / size);
    // Rounds: the ascending page r with the descending page r - 1, until they share a name.
    const rounds = Math.min(pages, Math.floor((n + size) / (2 * size)) + 1);
    const descending = requests.filter((r) => r.order === "desc").length;
    const ascending = requests.filter((r) => r.order === "asc").length;
    assert.equal(ascending, rounds, `${n}: ascending pages`);
    assert.equal(descending, pages > 1 ? rounds - 1 : 0, `${n}: descending pages`);
  }
});

Deno.test("both ends: an order the service did not keep falls back to one chain to its end", async () => {
  // Upper case sorts before lower case by code unit; a case-insensitive service interleaves.
  const names = ["a", "B", "c", "D", "e", "F", "g", "H"];
  const folded = await listAll(names, 2, "case-insensitive");
  assert.deepEqual([...folded.handed].sort(), [...names].sort());
  assert.equal(folded.requests.filter((r) => r.order === "asc").length, 4, "ascending to its end");
  // A service's own order that happens to rise: the descending chain's first page repeats
  // the ascending one's.
  const own = ["A", "B", "C", "D", "E", "F", "G", "H"];
  const ignored = await listAll(own, 2, "ignored");
  assert.deepEqual(ignored.handed, own);
  assert.equal(ignored.requests.filter((r) => r.order === "desc").length, 1, "one look is enough");
  const rejected = await listAll(names, 2, "rejected");
  assert.deepEqual(rejected.handed, names);
  assert.deepEqual(rejected.requests.map((r) => r.order), [
    "asc",
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
});

function secretsNamed(names: string[]): FakeSecret[] {
  return names.map((name, i) => ({
    name,
    string: JSON.stringify({ [`K.S${i}`]: `value-${i}-${crypto.randomUUID()}` }),
  }));
}

for (
  const [mode, options, sorted] of [
    ["sorted by code unit", {}, true],
    ["sorted ignoring case", { collation: "case-insensitive" }, false],
    ["ignoring the order", { sortFields: "ignored" }, false],
    ["rejecting the sort fields", { sortFields: "rejected" }, false],
  ] as [string, SecretsManagerFakeOptions, boolean][]
) {
  Deno.test(`Secrets Manager listing ${mode}: every secret reaches the vault`, async () => {
    // Mixed case, so only code-unit order looks sorted to the tool.
    const names = Array.from({ length: 61 }, (_, i) => `${i % 2 ? "app" : "App"}/s${i}`);
    const secrets = secretsNamed(names);
    const sm = secretsManagerFake(secrets, testKeys(), { pageSize: 7, ...options });
    await using run = await awsScenario("AWS_SECRETS_MANAGER", sm.handler);
    await run.loads({}, [
      ...secrets.map((s) => Object.values(JSON.parse(s.string!))[0] as string),
      SECRET_KEY,
    ]);
    const doc = await readVaultDoc(run.vault);
    secrets.forEach((secret, i) => {
      assert.equal(at(doc, `K.S${i}`), JSON.parse(secret.string!)[`K.S${i}`], secret.name);
    });
    const pages = Math.ceil(61 / 7); // 9 pages one way
    const lists = sm.calls.get("ListSecrets")!;
    if (sorted) {
      assert.equal(lists, 9, "5 ascending + 4 descending pages, 5 rounds");
      assert.ok(sm.listings.some((l) => l.sortOrder === "desc"));
    } else {
      assert.ok(lists >= pages, `${lists} pages: the whole listing, one way`);
    }
    if (options.sortFields === "rejected") {
      assert.deepEqual(sm.listings[1], { sortBy: undefined, sortOrder: undefined, token: false });
    }
  });
}
