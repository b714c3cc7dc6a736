/**
 * The vault, `get --format yaml` and `export --format yaml` read back as the same data in
 * YAML 1.2 (`yaml`), YAML 1.1 (`yaml` with `version: "1.1"`) and PyYAML `safe_load`, over
 * a corpus of hostile strings as values and as keys; plain scalars stay plain where safe.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { parseVault } from "../lib/vault/document.ts";
import { checkEntries } from "../lib/vault/merge.ts";
import { doubleQuoted, isPortablePlain, portableNumber } from "../lib/vault/portable.ts";
import { getText } from "../lib/commands/get.ts";
import { exportText } from "../lib/commands/export.ts";
import type { VaultEntry } from "../lib/contract/provider.ts";
import { hostileStrings, type YamlReader, yamlReaders } from "./support/yaml_readers.ts";

const READERS: YamlReader[] = await yamlReaders();

/** Assert every reader reads `text` as `expected`; the message names reader and key. */
async function assertReadsBack(
  text: string,
  expected: unknown,
  readers: readonly YamlReader[] = READERS,
): Promise<void> {
  for (const reader of readers) {
    const got = await reader.read(text) as Record<string, unknown>;
    if (typeof expected === "object" && expected !== null && !Array.isArray(expected)) {
      for (const [key, want] of Object.entries(expected)) {
        assert.deepEqual(got?.[key], want, `${reader.name}: key ${JSON.stringify(key)}`);
      }
    }
    assert.deepEqual(got, expected, `${reader.name} read the text differently`);
  }
}

async function vaultOf(entries: VaultEntry[]): Promise<string> {
  const doc = await parseVault("", "v");
  doc.apply(checkEntries(entries));
  return await doc.render();
}

Deno.test("every hostile string value reads back the same in YAML 1.2, YAML 1.1 and PyYAML", async () => {
  const values = hostileStrings();
  const text = await vaultOf(
    values.map((value, i) => ({ path: ["V", `k${i}`], value, source: "s" })),
  );
  await assertReadsBack(text, { V: Object.fromEntries(values.map((v, i) => [`k${i}`, v])) });
});

Deno.test("every hostile string key reads back the same in YAML 1.2, YAML 1.1 and PyYAML", async () => {
  const keys = hostileStrings();
  const text = await vaultOf(keys.map((key) => ({ path: ["K", key], value: "x", source: "s" })));
  await assertReadsBack(text, { K: Object.fromEntries(keys.map((k) => [k, "x"])) });
});

Deno.test("a lone surrogate is escaped: yaml and pure-Python PyYAML read it back, libyaml refuses it", async () => {
  const values = ["a\ud800b", "\udfff"];
  const text = await vaultOf(
    values.map((value, i) => ({ path: ["L", `k${i}`], value, source: "s" })),
  );
  assert.match(text, /"a\\uD800b"/);
  const readers = READERS.filter((reader) => !reader.name.includes("libyaml"));
  await assertReadsBack(text, { L: { k0: values[0], k1: values[1] } }, readers);
  for (const reader of READERS.filter((reader) => reader.name.includes("libyaml"))) {
    await assert.rejects(() => reader.read(text), /PyYAML refused/, "as documented");
  }
});

Deno.test("numbers and booleans stay typed and read back as the same numbers everywhere", async () => {
  const values = [0, 5, -17, 1.5, -0.25, 1e21, 1e-7, 123456789012, 2.5e300, true, false];
  const text = await vaultOf(
    values.map((value, i) => ({ path: ["N", `n${i}`], value, source: "s" })),
  );
  await assertReadsBack(text, { N: Object.fromEntries(values.map((v, i) => [`n${i}`, v])) });
  assert.equal(portableNumber("1e+21", 1e21), "1.0e+21");
  assert.equal(portableNumber("0o17", 15), "15");
  assert.equal(portableNumber("2.5e300", 2.5e300), "2.5e+300");
});

Deno.test("a vault written by an older version still loads, and the next write makes it portable", async () => {
  const old = [
    "# kept comment",
    "A: on",
    "B: 2001-12-14",
    "C: =",
    "D: '<<'",
    "E: 12:30:45",
    "F: 0o17",
    "G: 1e3",
    "ON: no",
    "H: 'plain quoted'",
    'I: "double"',
    "J: keep me",
    "",
  ].join("\n");
  const doc = await parseVault(old, "v");
  assert.deepEqual(doc.tree(), {
    A: "on",
    B: "2001-12-14",
    C: "=",
    D: "<<",
    E: "12:30:45",
    F: 15,
    G: 1000,
    ON: "no",
    H: "plain quoted",
    I: "double",
    J: "keep me",
  });
  doc.apply([{ path: ["NEW"], value: "y", source: "s" }]);
  const text = await doc.render();
  await assertReadsBack(text, { ...doc.tree() });
  assert.match(text, /^# kept comment\n/);
  assert.match(text, /^J: keep me$/m, "safe plain scalars stay plain");
  assert.match(text, /^H: 'plain quoted'$/m, "a hand-chosen quoting style is kept");
  assert.match(text, /^"ON": "no"$/m);
  assert.match(text, /^NEW: "y"$/m);
});

Deno.test("ordinary values stay plain and readable", async () => {
  const doc = await parseVault("", "v");
  doc.apply([
    { path: ["SNOWFLAKE", "TRANSFORM", "PASSWORD"], value: "s3cr3t-P4ss/word+x==", source: "s" },
    { path: ["SNOWFLAKE", "TRANSFORM", "USERNAME"], value: "transform_user", source: "s" },
    { path: ["SNOWFLAKE", "ACCOUNT"], value: "https://acme.snowflakecomputing.com", source: "s" },
    { path: ["SNOWFLAKE", "NOTE"], value: "two words", source: "s" },
    { path: ["PEM"], value: "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n", source: "s" },
  ]);
  assert.equal(
    await doc.render(),
    [
      "SNOWFLAKE:",
      "  TRANSFORM:",
      "    PASSWORD: s3cr3t-P4ss/word+x==",
      "    USERNAME: transform_user",
      "  ACCOUNT: https://acme.snowflakecomputing.com",
      "  NOTE: two words",
      "PEM: |",
      "  -----BEGIN KEY-----",
      "  MIIB",
      "  -----END KEY-----",
      "",
    ].join("\n"),
  );
  assert.equal(isPortablePlain("ON"), false);
  assert.equal(isPortablePlain("a:b", true), false, "no colon in plain keys");
  assert.equal(doubleQuoted("a\u2028b\x85\ufeff\0"), '"a\\u2028b\\x85\\uFEFF\\0"');
});

Deno.test("get --format yaml and export --format yaml read back the same in every reader", async () => {
  const values = hostileStrings();
  const tree = { V: Object.fromEntries(values.map((v, i) => [`k${i}`, v])) };
  await assertReadsBack(getText(tree, "V", "yaml", "v"), tree.V);
  const texts = values.map((_, i) => getText(tree, `V.k${i}`, "yaml", "v"));
  for (const reader of READERS) {
    const got = await reader.readAll(texts);
    values.forEach((value, i) => {
      assert.equal(got[i], value, `${reader.name}: get of ${JSON.stringify(value)}`);
    });
  }
  const named = { ON: "no", Y: "=", NO: "<<", A: "a\u2028b" };
  await assertReadsBack(exportText(named, undefined, "yaml", "", "v"), named);
});

Deno.test("any string survives the vault in every reader, as a value and as a key (property)", async () => {
  const text = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 30 }),
    fc.string({ unit: "binary", maxLength: 30 }),
    fc.string({ unit: fc.constantFrom(..."yYnN:#-?!&*'\" \n\t\r01._+e<=>~|"), maxLength: 8 }),
  );
  const samples = fc.sample(
    fc.uniqueArray(text, { minLength: 1, maxLength: 30 }),
    { numRuns: 200, seed: 7 },
  );
  const texts = await Promise.all(samples.map((strings) =>
    vaultOf([
      ...strings.map((value, i) => ({ path: ["P", `k${i}`], value, source: "s" })),
      ...strings.map((key, i) => ({ path: ["K", key], value: i, source: "s" })),
    ])
  ));
  for (const reader of READERS) {
    const got = await reader.readAll(texts);
    samples.forEach((strings, n) => {
      const expected = {
        P: Object.fromEntries(strings.map((v, i) => [`k${i}`, v])),
        K: Object.fromEntries(strings.map((k, i) => [k, i])),
      };
      assert.deepEqual(got[n], expected, `${reader.name}, sample ${n}: ${JSON.stringify(strings)}`);
    });
  }
});
