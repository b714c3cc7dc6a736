import assert from "node:assert/strict";
import { isKind } from "../lib/kit/errors.ts";
import { checkEntries, planMerge } from "../lib/vault/merge.ts";
import { parseVault } from "../lib/vault/document.ts";
import type { VaultEntry } from "../lib/contract/provider.ts";

const entry = (key: string, value: string, source = "s"): VaultEntry => ({
  path: key.split("."),
  value,
  source,
});

Deno.test("merge adds, replaces and keeps unrelated keys and comments", async () => {
  const doc = await parseVault("# header\nA:\n  B: old # why\n  KEEP: k\nOTHER: o\n", "v");
  const entries = checkEntries([entry("A.B", "new"), entry("A.C", "c"), entry("Z.Y", "z")]);
  assert.deepEqual(planMerge(doc, entries), {
    added: ["A.C", "Z.Y"],
    changed: ["A.B"],
    unchanged: [],
  });
  doc.apply(entries);
  // `Y` is a boolean to YAML 1.1 readers, so the key is quoted.
  assert.equal(
    await doc.render(),
    '# header\nA:\n  B: new # why\n  KEEP: k\n  C: c\nOTHER: o\nZ:\n  "Y": z\n',
  );
});

Deno.test("merge output is stable: entry order does not change the bytes", async () => {
  const a = [entry("X.B", "1"), entry("X.A", "2"), entry("Y", "3")];
  const render = async (entries: VaultEntry[]) => {
    const doc = await parseVault("", "v");
    doc.apply(checkEntries(entries));
    return await doc.render();
  };
  assert.equal(await render(a), await render([...a].reverse()));
});

Deno.test("a key that is both a value and a namespace is an error naming both", async () => {
  assert.throws(
    () => checkEntries([entry("A.B", "x", "one"), entry("A.B.C", "y", "two")]),
    (error: unknown) => {
      assert.ok(isKind(error, "conflict"));
      assert.match(error.message, /"A\.B"/);
      assert.match(error.message, /"A\.B\.C"/);
      return true;
    },
  );
  const doc = await parseVault("A:\n  B: x\n", "v");
  assert.throws(() => planMerge(doc, [entry("A.B.C", "y")]), /"A\.B" holds a value/);
  assert.throws(() => planMerge(doc, [entry("A", "y")]), /"A" is a namespace/);
});

Deno.test("two secrets mapping to one key is an error naming both secrets", () => {
  assert.throws(
    () => checkEntries([entry("A.B", "x", "first"), entry("A.B", "x", "second")]),
    /"first" and "second" both map to the vault key "A\.B"/,
  );
});

Deno.test("hostile values are stored as exact strings", async () => {
  const values = ["007", "null", "true", "a: b", "#x", "---", "!!binary x", "  lead", "m\nl\n"];
  const doc = await parseVault("", "v");
  doc.apply(checkEntries(values.map((v, i) => entry(`K.V${i}`, v))));
  const back = (await parseVault(await doc.render(), "v")).tree() as { K: Record<string, string> };
  assert.deepEqual(Object.values(back.K), values);
});
