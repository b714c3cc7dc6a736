/**
 * The canonical vault form (`lib/vault/canonical.ts`) against the `yaml` package: the
 * canonical writer gives `yaml`'s bytes, the canonical reader reads what `yaml` reads
 * (and every text it accepts, even mutated, means to `yaml` what it means to us), and a
 * merge gives the same plan and bytes whichever way the vault was read.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { parseDocument } from "yaml";
import type { LeafValue, VaultEntry } from "../lib/contract/provider.ts";
import {
  type CanonicalMap,
  type CanonicalNode,
  isMapping,
  mappingGet,
  mappingKeys,
  parseCanonical,
  renderCanonical,
} from "../lib/vault/canonical.ts";
import { canonicalTree } from "../lib/vault/canonical_document.ts";
import { parseVault } from "../lib/vault/document.ts";
import { checkEntries, planMerge } from "../lib/vault/merge.ts";
import { hasPlainCharacters } from "../lib/vault/portable.ts";
import { parseYamlVault, yamlFromCanonical } from "../lib/vault/yaml_document.ts";

const RUNS = { numRuns: 400 };

const keyArb = fc.oneof(
  fc.constantFrom(
    "A",
    "KEY_1",
    "SNOWFLAKE",
    "",
    "1",
    "007",
    "true",
    "Yes",
    "~",
    "- x",
    "a: b",
    "a:b",
    "#",
    "x y",
    "ключ",
    "名",
    " lead",
    "trail ",
    "__proto__",
    '"q"',
    "k".repeat(1100),
  ),
  fc.string({ unit: "grapheme-ascii", maxLength: 6 }),
  fc.string({ unit: "binary", maxLength: 4 }),
);

const multiLineArb = fc.oneof(
  fc.constantFrom(
    "line1\nline2\n",
    "line1\nline2",
    "a\n\nb\n",
    "a\n",
    "\nlead",
    " lead\nx",
    "x\n\n",
    "tail \n",
    "tail\t",
    "a\n  b\n",
    "a\n  \nb",
    "a\r\nb",
    "a\tb\nc",
    "x\u2028y\nz",
    "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n",
    "---\nx\n",
    "a\n...\n",
    "# not a comment\nb",
  ),
  fc.array(fc.string({ unit: "grapheme-ascii", maxLength: 8 }), { minLength: 2, maxLength: 4 })
    .map((lines) => lines.join("\n")),
);

const leafArb: fc.Arbitrary<LeafValue> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 10 }),
  fc.string({ unit: "binary", maxLength: 6 }),
  multiLineArb,
  fc.constantFrom("null", "on", "0o17", "1e3", "12:30", "2001-12-14", "=", "<<", "@x", "a #b"),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 1e21, 5e-7, 2 ** 53 + 2, 0.1),
  fc.boolean(),
);

const mapArb: fc.Arbitrary<CanonicalMap> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, leafArb, leafArb, tie("map")),
  map: fc.uniqueArray(fc.tuple(keyArb, tie("node")), {
    selector: ([key]) => key,
    maxLength: 5,
  }).map((pairs) => new Map(pairs as [string, LeafValue | CanonicalMap][])),
})).map as fc.Arbitrary<CanonicalMap>;

/** A mapping as nested `Map`s in its key order, whichever form each level is kept in. */
function asMaps(map: CanonicalMap): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const key of mappingKeys(map)) {
    const value: CanonicalNode = mappingGet(map, key)!;
    out.set(key, isMapping(value) ? asMaps(value) : value);
  }
  return out;
}

/** What `yaml` writes for the data (fresh nodes, portable tags): the reference bytes. */
const yamlText = (root: CanonicalMap) => yamlFromCanonical(root).render();

Deno.test("canonical writer: wherever it writes, it writes exactly yaml's bytes", async () => {
  let written = 0;
  await fc.assert(
    fc.asyncProperty(mapArb, async (root) => {
      const text = renderCanonical(root);
      if (text === null) return;
      written++;
      assert.equal(text, await yamlText(root));
    }),
    RUNS,
  );
  // The generator reaches the canonical path most of the time, not only the fallback.
  assert.ok(written > RUNS.numRuns / 2, `canonical writes: ${written}`);
});

Deno.test("canonical reader: reads back all it writes, as yaml reads it", async () => {
  await fc.assert(
    fc.asyncProperty(mapArb, async (root) => {
      const text = await yamlText(root);
      const read = parseCanonical(text);
      if (renderCanonical(root) !== null) assert.notEqual(read, null, text);
      if (read === null) return;
      assert.deepStrictEqual(asMaps(read), asMaps(root));
      assert.deepStrictEqual(canonicalTree(read), parseDocument(text).toJS() ?? {});
    }),
    RUNS,
  );
});

/** A text with one edit: a character inserted, removed or replaced, or a line repeated. */
const mutatedArb = fc.tuple(
  mapArb,
  fc.nat(),
  fc.constantFrom(" ", "\n", ":", '"', "\\", "#", "-", "|", "'", "{", "a", "\t", "0", "&", "*"),
  fc.constantFrom("insert", "remove", "replace", "repeat-line"),
);

Deno.test("canonical reader: any text it accepts means to yaml what it means to us", async () => {
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(mutatedArb, async ([root, at, char, edit]) => {
      const text = await yamlText(root);
      const i = at % (text.length + 1);
      let mutated: string;
      if (edit === "insert") mutated = text.slice(0, i) + char + text.slice(i);
      else if (edit === "remove") mutated = text.slice(0, i) + text.slice(i + 1);
      else if (edit === "replace") mutated = text.slice(0, i) + char + text.slice(i + 1);
      else {
        const lines = text.split("\n");
        const n = at % lines.length;
        mutated = [...lines.slice(0, n + 1), ...lines.slice(n)].join("\n");
      }
      const read = parseCanonical(mutated);
      if (read === null) return;
      accepted++;
      const doc = parseDocument(mutated, { uniqueKeys: true });
      assert.deepEqual(doc.errors, [], mutated);
      assert.deepStrictEqual(canonicalTree(read), doc.toJS() ?? {}, mutated);
    }),
    { numRuns: 1500 },
  );
  assert.ok(accepted > 0);
});

const entryArb = fc.array(
  fc.record({
    path: fc.array(fc.oneof(keyArb, fc.constantFrom("A", "B")), { minLength: 1, maxLength: 3 }),
    value: leafArb,
    source: fc.constantFrom("s1", "s2"),
  }),
  { maxLength: 6 },
);

/** The plan (or the conflict message) and the bytes after the merge. */
async function merged(
  doc: Awaited<ReturnType<typeof parseVault>>,
  entries: VaultEntry[],
): Promise<unknown> {
  try {
    const plan = planMerge(doc, entries);
    doc.apply(entries);
    return { plan, text: await doc.render(), tree: doc.tree() };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

Deno.test("merge: the same plan and bytes whether the vault was read with or without yaml", async () => {
  let canonical = 0;
  await fc.assert(
    fc.asyncProperty(mapArb, entryArb, async (root, raw) => {
      let entries: VaultEntry[];
      try {
        entries = checkEntries(raw);
      } catch {
        return;
      }
      const text = await yamlText(root);
      const fast = await parseVault(text, "v");
      if (fast.form === "canonical") canonical++;
      const slow = parseYamlVault(text, "v");
      assert.deepStrictEqual(await merged(fast, entries), await merged(slow, entries));
    }),
    RUNS,
  );
  assert.ok(canonical > RUNS.numRuns / 2, `canonical reads: ${canonical}`);
});

Deno.test("canonical reader: leaves every other form to yaml", () => {
  for (
    const text of [
      "A: x # note\n",
      "# header\nA: x\n",
      "A: 'x'\n",
      'A: "x"\n',
      "A: { B: x }\n",
      "A:\n\n  B: x\n",
      "A:\n",
      "A: null\n",
      "A: ~\n",
      "A:\n   B: x\n",
      "A:\n\tB: x\n",
      "? A\n: x\n",
      "A: &a x\nB: *a\n",
      "A: !!str x\n",
      "---\nA: x\n",
      "A: x\r\n",
      "A: x",
      "A: x\nA: y\n",
      "A: True\n",
      "A: 1.50\n",
      "A: 0o17\n",
      "A: |+\n  x\n\n",
      "A: |2\n   x\n",
      "A: >\n  x\n",
      "- a\n",
      "A: [1, 2]\n",
      "A:\n  - x\n",
    ]
  ) {
    assert.equal(parseCanonical(text), null, JSON.stringify(text));
  }
});

Deno.test("a vault this tool wrote is read back without yaml", async () => {
  const text = [
    "SNOWFLAKE:",
    "  ACCOUNT: https://acme.snowflakecomputing.com",
    "  PORT: 443",
    "  PEM: |",
    "    -----BEGIN KEY-----",
    "    MIIB",
    "    -----END KEY-----",
    '  "Y": "no"',
    "EMPTY: {}",
    "",
  ].join("\n");
  const doc = await parseVault(text, "v");
  assert.equal(doc.form, "canonical");
  assert.deepEqual(doc.tree(), {
    SNOWFLAKE: {
      ACCOUNT: "https://acme.snowflakecomputing.com",
      PORT: 443,
      PEM: "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n",
      Y: "no",
    },
    EMPTY: {},
  });
  assert.equal(await doc.render(), text);
});

Deno.test("an empty {} vault gains keys as block mappings, read with or without yaml", async () => {
  const entries = checkEntries([{ path: ["A", "B"], value: "x", source: "s" }]);
  for (const doc of [await parseVault("{}\n", "v"), parseYamlVault("{}\n", "v")]) {
    doc.apply(entries);
    assert.equal(await doc.render(), "A:\n  B: x\n");
  }
  const nested = parseYamlVault("A: {}\n", "v");
  nested.apply(entries);
  assert.equal(await nested.render(), "A:\n  B: x\n");
});

Deno.test("keys an object would reorder (array indexes) or treat as its prototype keep their place", async () => {
  const text = 'B: x\n"1": "y"\n__proto__: z\nA:\n  K: v\n';
  const doc = await parseVault(text, "v");
  assert.equal(doc.form, "canonical");
  assert.equal(await doc.render(), text);
  doc.apply(checkEntries([
    { path: ["0"], value: "new", source: "s" },
    { path: ["A", "7"], value: "w", source: "s" },
  ]));
  assert.equal(
    await doc.render(),
    'B: x\n"1": "y"\n__proto__: z\nA:\n  K: v\n  "7": w\n"0": new\n',
  );
  const keys: string[] = [];
  doc.forEachLeafKey((key) => keys.push(key));
  assert.deepEqual(keys, ["0", "1", "A.7", "A.K", "B", "__proto__"]);
});

Deno.test("plain characters: the ASCII rule decides every ASCII string as the Unicode rule does", () => {
  const unicodeChars = /^[\p{L}\p{M}\p{N}_\-./+@=;()$^~*&!%?'"<>|` :]+$/u;
  const unicodeStart = /^[\p{L}\p{N}_/$(]/u;
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ unit: "binary-ascii", maxLength: 12 }), fc.string({ maxLength: 6 })),
      (value) => {
        const expected = unicodeChars.test(value) && unicodeStart.test(value);
        assert.equal(hasPlainCharacters(value), expected, JSON.stringify(value));
      },
    ),
    { numRuns: 3000 },
  );
});
