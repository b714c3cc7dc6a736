/**
 * End to end: a real load writes a vault that YAML 1.2 (`yaml`), YAML 1.1 (`yaml` with
 * `version: "1.1"`) and PyYAML `safe_load` all read back as exactly the loaded data, for
 * hostile strings as values and as keys; `get --format yaml` and `export --format yaml`
 * print the same way; a vault written by an older version loads and comes out portable.
 */

import assert from "node:assert/strict";
import { assertNoLeak } from "./support/assertions.ts";
import { customEnv, customSource } from "./support/custom_source.ts";
import { runTool } from "./support/run_tool.ts";
import { tempVault } from "./support/temp.ts";
import { hostileStrings, type YamlReader, yamlReaders } from "./support/yaml_readers.ts";

const READERS: YamlReader[] = await yamlReaders();

async function assertEveryReader(text: string, expected: unknown): Promise<void> {
  for (const reader of READERS) {
    const got = await reader.read(text) as Record<string, Record<string, unknown>>;
    const want = expected as Record<string, Record<string, unknown>>;
    for (const [top, inner] of Object.entries(want)) {
      for (const [key, value] of Object.entries(inner)) {
        assert.deepEqual(got?.[top]?.[key], value, `${reader.name}: ${top}.${JSON.stringify(key)}`);
      }
    }
    assert.deepEqual(got, expected, `${reader.name} read the vault differently`);
  }
}

/** Distinctive values only (scanning output for `on` or `1` would match ordinary words). */
const scanned = (values: readonly string[]) =>
  values.filter((value) => value.trim().length >= 8 && !value.includes("\n"));

Deno.test("a loaded vault reads back the same in YAML 1.2, YAML 1.1 and PyYAML: hostile values", async () => {
  const values = hostileStrings();
  const secrets: Record<string, unknown> = Object.fromEntries(
    values.map((value, i) => [`V.k${i}`, value]),
  );
  Object.assign(secrets, {
    "T.int": 42,
    "T.float": 1.5,
    "T.big": 1e21,
    "T.yes": true,
    "T.no": false,
  });
  await using source = await customSource(secrets);
  await using tmp = await tempVault();
  const result = await runTool([], customEnv(source.script, tmp.vault));
  assert.equal(result.code, 0, result.stderr);
  assertNoLeak(result, scanned(values));
  await assertEveryReader(await Deno.readTextFile(tmp.vault), {
    V: Object.fromEntries(values.map((value, i) => [`k${i}`, value])),
    T: { int: 42, float: 1.5, big: 1e21, yes: true, no: false },
  });
});

Deno.test("a loaded vault reads back the same in YAML 1.2, YAML 1.1 and PyYAML: hostile keys", async () => {
  // A dot separates path segments, and an empty segment is refused, so those keys are left out.
  const keys = hostileStrings().filter((key) => key !== "" && !key.includes(".")).slice(0, 300);
  await using source = await customSource(
    Object.fromEntries(keys.map((key, i) => [`K.${key}`, `v${i}`])),
  );
  await using tmp = await tempVault();
  const result = await runTool([], customEnv(source.script, tmp.vault));
  assert.equal(result.code, 0, result.stderr);
  const text = await Deno.readTextFile(tmp.vault);
  await assertEveryReader(text, { K: Object.fromEntries(keys.map((key, i) => [key, `v${i}`])) });
  assert.match(text, /^ {2}"ON": v\d+$/m, "a key YAML 1.1 reads as a boolean is quoted");
});

Deno.test("get --format yaml and export --format yaml print text every reader reads as the value", async () => {
  const values = [
    "no",
    "On",
    "=",
    "<<",
    "12:30:45",
    "1_000",
    "0b101",
    "2001-12-14",
    "a\u2028b\x85",
  ];
  const vault = [
    "V:",
    ...values.map((value, i) => `  k${i}: ${JSON.stringify(value)}`),
    "",
  ].join("\n");
  await using tmp = await tempVault(vault);
  const env = { SECRETS_VAULT_PATH: tmp.vault };
  const namespace = await runTool(["get", "V", "--format", "yaml"], env);
  assert.equal(namespace.code, 0, namespace.stderr);
  const expected = Object.fromEntries(values.map((value, i) => [`k${i}`, value]));
  await assertEveryReader(`V:\n${namespace.stdout.replace(/^/gm, "  ")}`, { V: expected });
  const exported = await runTool(["export", "--format", "yaml", "V"], env);
  assert.equal(exported.code, 0, exported.stderr);
  await assertEveryReader(`V:\n${exported.stdout.replace(/^/gm, "  ")}`, { V: expected });
  for (const [i, value] of values.entries()) {
    const one = await runTool(["get", `V.k${i}`, "--format", "yaml"], env);
    assert.equal(one.code, 0, one.stderr);
    for (const reader of READERS) {
      assert.equal(await reader.read(one.stdout), value, `${reader.name}: get V.k${i}`);
    }
  }
});

Deno.test("a vault written by an older version still loads, and the next load makes it portable", async () => {
  const old = [
    "# written by an older version",
    "OLD:",
    "  FLAG: on",
    "  ANSWER: no",
    "  DAY: 2001-12-14",
    "  TIME: 12:30:45",
    "  EQ: =",
    "  OCT: 0o17",
    "  NAME: plain value",
    "  ON: y",
    "",
  ].join("\n");
  await using source = await customSource({ "NEW.KEY": "Off" });
  await using tmp = await tempVault(old);
  const before = await runTool(["get", "OLD.EQ"], { SECRETS_VAULT_PATH: tmp.vault });
  assert.equal(before.code, 0, before.stderr);
  assert.equal(before.stdout, "=");
  const result = await runTool([], customEnv(source.script, tmp.vault));
  assert.equal(result.code, 0, result.stderr);
  const text = await Deno.readTextFile(tmp.vault);
  await assertEveryReader(text, {
    OLD: {
      FLAG: "on",
      ANSWER: "no",
      DAY: "2001-12-14",
      TIME: "12:30:45",
      EQ: "=",
      OCT: 15,
      NAME: "plain value",
      ON: "y",
    },
    NEW: { KEY: "Off" },
  });
  assert.match(text, /^# written by an older version$/m, "comments are kept");
  assert.match(text, /^ {2}NAME: plain value$/m, "safe values stay plain");
});
