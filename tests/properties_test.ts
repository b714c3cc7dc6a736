/**
 * Property-based tests (fast-check) of name mapping and merging: arbitrary names through
 * every provider's `map`, arbitrary nested JSON under expansion, arbitrary existing vaults
 * merged with arbitrary entries, and arbitrary values through the vault file.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { parse } from "yaml";
import { isKind } from "../lib/kit/errors.ts";
import { flatten, mapValue, nameToPath } from "../lib/kit/mapping.ts";
import { checkEntries, planMerge } from "../lib/vault/merge.ts";
import { parseVault } from "../lib/vault/document.ts";
import { PROVIDERS } from "../providers/registry.ts";
import type {
  Backend,
  FetchedSecret,
  LeafValue,
  ProviderSettings,
  VaultEntry,
} from "../lib/contract/provider.ts";
import { testSettings } from "./support/settings.ts";

const RUNS = { numRuns: 300 };

function settings(extra: Partial<ProviderSettings> = {}): ProviderSettings {
  return testSettings({ requestTimeoutMs: 1000, ...extra });
}

/** Names built from separators, dots, letters of several scripts and case variants. */
const nameArb = fc.array(
  fc.constantFrom("/", "-", ".", "_", "a", "A", "z", "Z", "0", "é", "É", "ß", "名", "🔑", " ", ":"),
  { minLength: 0, maxLength: 14 },
).map((chars) => chars.join(""));

const leafArb: fc.Arbitrary<LeafValue> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.integer(),
  fc.boolean(),
);

/** Nested JSON objects with keys that may hold dots or be empty. */
const jsonObjectArb = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: "small" }, leafArb, tie("object")),
  object: fc.dictionary(
    fc.oneof(
      fc.constantFrom("a", "b", "A", "x.y", "", ".", "é", "k1"),
      fc.string({ maxLength: 4 }),
    ),
    tie("node"),
    { minKeys: 1, maxKeys: 4 },
  ),
})).object as fc.Arbitrary<Record<string, unknown>>;

const MAPPED: Backend[] = [
  "AWS_SECRETS_MANAGER",
  "AWS_PARAMETER_STORE",
  "AZURE_KEY_VAULT",
  "HASHICORP_VAULT",
  "CUSTOM",
];

function secretFor(backend: Backend, name: string, value: string): FetchedSecret {
  return backend === "HASHICORP_VAULT" ? { name, value: { VALUE: value } } : { name, value };
}

Deno.test("every provider's map: any name gives non-empty segments naming the secret, or a conflict error naming it", () => {
  for (const backend of MAPPED) {
    const provider = PROVIDERS[backend];
    fc.assert(
      fc.property(nameArb, fc.option(nameArb), fc.boolean(), (name, prefix, expand) => {
        const value = "plain-value-not-json";
        const s = settings({ stripPrefix: prefix ?? undefined, expandJson: expand });
        let entries: VaultEntry[];
        try {
          entries = provider.map(secretFor(backend, name, value), s);
        } catch (error) {
          assert.ok(isKind(error, "conflict"), `${backend}: ${error}`);
          assert.ok(error.message.includes(`"${name}"`), `${backend} names the secret`);
          assert.ok(!error.message.includes(value), "never the value");
          return;
        }
        assert.ok(entries.length >= 1);
        for (const entry of entries) {
          assert.ok(entry.path.length >= 1);
          assert.ok(entry.path.every((segment) => segment !== ""), JSON.stringify(entry.path));
          assert.equal(entry.source, name);
          assert.equal(entry.value, value);
        }
      }),
      RUNS,
    );
  }
});

Deno.test("nameToPath: one leading separator does not matter, any other empty part is refused; case is kept, so case variants never collide", () => {
  fc.assert(
    fc.property(
      fc.array(fc.stringMatching(/^[A-Za-z0-9_]{1,6}$/), { minLength: 1, maxLength: 4 }),
      fc.constantFrom("/", "-"),
      (parts, sep) => {
        const name = parts.join(sep);
        const path = nameToPath(name, sep, undefined);
        assert.deepEqual(path, parts);
        assert.deepEqual(nameToPath(`${sep}${name}`, sep, undefined), parts);
        for (const bad of [`${name}${sep}`, `${sep}${sep}${name}`, `${name}${sep}${sep}x`]) {
          assert.throws(
            () => nameToPath(bad, sep, undefined),
            (error: unknown) => isKind(error, "conflict"),
          );
        }
        const upper = name.toUpperCase();
        if (upper !== name) assert.notDeepEqual(nameToPath(upper, sep, undefined), path);
      },
    ),
    RUNS,
  );
});

function leaves(value: unknown, base: string[] = [], out = new Map<string, unknown>()) {
  if (typeof value === "object" && value !== null) {
    for (const [key, child] of Object.entries(value)) leaves(child, [...base, key], out);
  } else {
    out.set(base.join("."), value);
  }
  return out;
}

Deno.test("expand JSON: any nested object maps leaf for leaf below the secret's path, or fails naming the secret", () => {
  fc.assert(
    fc.property(jsonObjectArb, (object) => {
      const text = JSON.stringify(object);
      const secret: FetchedSecret = { name: "app/config", value: text };
      let entries: VaultEntry[];
      try {
        entries = checkEntries(mapValue(["APP", "CONFIG"], secret, true));
      } catch (error) {
        assert.ok(isKind(error, "conflict"), String(error));
        assert.match(error.message, /"app\/config"/);
        return;
      }
      const expected = leaves(object);
      assert.equal(entries.length, expected.size);
      for (const entry of entries) {
        assert.deepEqual(entry.path.slice(0, 2), ["APP", "CONFIG"]);
        assert.equal(expected.get(entry.path.slice(2).join(".")), entry.value);
      }
      // Without expansion the same text is one value, exactly.
      const plain = mapValue(["APP", "CONFIG"], secret, false);
      assert.deepEqual(plain, [{ path: ["APP", "CONFIG"], value: text, source: "app/config" }]);
    }),
    RUNS,
  );
});

/** Small segment alphabet so paths overlap often. */
const segmentArb = fc.constantFrom("A", "B", "C", "a", "DB", "é");
const pathArb = fc.array(segmentArb, { minLength: 1, maxLength: 3 });
const vaultTreeArb = fc.letrec((tie) => ({
  tree: fc.dictionary(segmentArb, fc.oneof({ depthSize: "small" }, fc.string(), tie("tree")), {
    maxKeys: 4,
  }),
})).tree as fc.Arbitrary<Record<string, unknown>>;

function getPath(object: unknown, path: readonly string[]): unknown {
  let node = object;
  for (const segment of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

Deno.test("merge: never loses an unrelated key, never makes a key both value and namespace, reports collisions naming both secrets", async () => {
  await fc.assert(
    fc.asyncProperty(
      vaultTreeArb,
      fc.array(
        fc.record({ path: pathArb, value: fc.string(), source: fc.constantFrom("s1", "s2", "s3") }),
        {
          maxLength: 6,
        },
      ),
      async (tree, raw) => {
        const existing = Object.keys(tree).length === 0
          ? ""
          : await (await parseVault(JSON.stringify(tree), "v")).render();
        const doc = await parseVault(existing, "v");
        let checked: VaultEntry[];
        try {
          checked = checkEntries(raw);
        } catch (error) {
          assert.ok(isKind(error, "conflict"));
          const message = error.message;
          const keys = raw.map((e) => e.path.join("."));
          const collision = keys.some((k, i) => keys.indexOf(k) !== i);
          const nested = keys.some((k) => keys.some((o) => o.startsWith(`${k}.`)));
          assert.ok(collision || nested, message);
          // Both secrets are named.
          assert.equal(
            (message.match(/"s\d"/g) ?? []).length >= 2 ||
              /secrets "s\d" and "s\d"/.test(message),
            true,
            message,
          );
          return;
        }
        try {
          planMerge(doc, checked);
        } catch (error) {
          // A value/namespace clash with the existing vault names the secret and the key.
          assert.ok(isKind(error, "conflict"));
          assert.match(error.message, /secret "s\d"/);
          return;
        }
        doc.apply(checked);
        const after = parse(await doc.render()) as Record<string, unknown>;
        for (const entry of checked) assert.equal(getPath(after, entry.path), entry.value);
        // Every existing leaf not replaced by an entry is still there, unchanged.
        for (const [key, value] of leaves(tree)) {
          if (typeof value === "object") continue;
          const path = key.split(".");
          if (checked.some((e) => e.path.join(".") === key)) continue;
          assert.equal(getPath(after, path), value, `lost ${key}`);
        }
        // No path is both a value and a namespace: every entry's parents are mappings.
        for (const entry of checked) {
          for (let i = 1; i < entry.path.length; i++) {
            const parent = getPath(after, entry.path.slice(0, i));
            assert.equal(typeof parent, "object");
          }
        }
      },
    ),
    RUNS,
  );
});

Deno.test("vault file: any string value survives render and parse as the exact same string", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 40 }),
          fc.constantFrom(
            "null",
            "true",
            "~",
            "0012",
            "1e3",
            "0x1F",
            "- item",
            ": x",
            "#c",
            "---",
            "...",
            "!!binary aGk=",
            "&a",
            "*a",
            "  lead",
            "trail\n\n",
            "a\r\nb",
            "\t",
            "",
          ),
        ),
        { minLength: 1, maxLength: 6 },
      ),
      async (values) => {
        const entries = values.map((value, i) => ({
          path: ["K", `V${i}`],
          value,
          source: `s${i}`,
        }));
        const doc = await parseVault("", "v");
        doc.apply(checkEntries(entries));
        const back = parse(await doc.render()) as { K: Record<string, unknown> };
        values.forEach((value, i) => assert.equal(back.K[`V${i}`], value));
      },
    ),
    RUNS,
  );
});

Deno.test("flatten rejects lists and null naming the key, never the value", () => {
  fc.assert(
    fc.property(fc.constantFrom(null, [1, "secret-in-list"]), (bad) => {
      assert.throws(
        () => flatten(["A"], { B: bad }, "src"),
        (error: unknown) =>
          isKind(error, "conflict") && error.message.includes('"A.B"') &&
          !error.message.includes("secret-in-list"),
      );
    }),
  );
});
