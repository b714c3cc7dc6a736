import assert from "node:assert/strict";
import { isKind } from "../lib/kit/errors.ts";
import { lockVault, readVault, writeAtomicSync } from "../lib/vault/file.ts";
import { parseVault } from "../lib/vault/document.ts";
import { tempVault } from "./support/temp.ts";

Deno.test("invalid YAML is an error with the line number", async () => {
  await assert.rejects(
    () => parseVault("A: 1\nB: [unclosed\nC: 3\n", "v.yml"),
    (error: unknown) => {
      assert.ok(isKind(error, "vault"));
      assert.match(error.message, /line \d+/);
      return true;
    },
  );
  await assert.rejects(() => parseVault("A: 1\nA: 2\n", "v.yml"), /not valid YAML at line 2/);
  await assert.rejects(() => parseVault("- a\n- b\n", "v.yml"), /mapping/);
});

Deno.test("missing and empty files are empty vaults", async () => {
  await using tmp = await tempVault();
  const { vault } = tmp;
  assert.equal((await readVault(vault)).text, null);
  await Deno.writeTextFile(vault, "");
  assert.deepEqual((await readVault(vault)).doc.tree(), {});
});

Deno.test("writeAtomicSync writes a private file and leaves no temp file", async () => {
  await using tmp = await tempVault("OLD: 1\n");
  const { dir, vault } = tmp;
  await Deno.chmod(vault, 0o644);
  writeAtomicSync(vault, "NEW: 2\n");
  assert.equal(await Deno.readTextFile(vault), "NEW: 2\n");
  assert.equal((await Deno.stat(vault)).mode! & 0o777, 0o600);
  const names = [];
  for await (const item of Deno.readDir(dir)) names.push(item.name);
  assert.deepEqual(names, ["vault.yml"]);
});

Deno.test("the vault lock excludes a second holder until released, and times out clearly", async () => {
  await using tmp = await tempVault();
  const { vault } = tmp;
  const lock = await lockVault(vault, 1000);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { lockVault } from "${new URL("../lib/vault/file.ts", import.meta.url)}";
       try { await lockVault(${JSON.stringify(vault)}, 300); console.log("locked"); }
       catch (e) { console.log(e.message); }
       Deno.exit(0);`,
    ],
    stdout: "piped",
  });
  const held = new TextDecoder().decode((await child.output()).stdout);
  assert.match(held, /another run holds the vault lock/);
  lock.release();
  const free = new TextDecoder().decode((await child.output()).stdout);
  assert.equal(free.trim(), "locked");
});

Deno.test("a key repeated in any mapping, nested or flow, is refused naming its line", async () => {
  await assert.rejects(
    () => parseVault("A:\n  B: 1\n  C: 2\n  B: 3\n", "v.yml"),
    /at line 4 \(DUPLICATE_KEY\)/,
  );
  await assert.rejects(
    () => parseVault("A: {x: 1, y: 2}\nL:\n  - {k: 1, k: 2}\n", "v.yml"),
    /at line 3/,
  );
  // As in `yaml`'s own check, an int key and a string key are different keys.
  await assert.doesNotReject(() => parseVault("1: a\n'1': b\nA:\n  B: 1\nB:\n  B: 2\n", "v.yml"));
});
