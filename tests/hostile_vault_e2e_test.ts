/**
 * A hostile vault folder, through the real tool: an alias bomb, FIFOs, links to devices and
 * to files outside the folder, an oversized file, inherited object members used as keys,
 * and a key starting with a byte order mark. Each fails within bounded time with exit 6
 * and one line naming the file (or reads correctly), and changes nothing.
 */

import assert from "node:assert/strict";
import { assertOneErrorLine } from "./support/assertions.ts";
import { customEnv, customSource } from "./support/custom_source.ts";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { type RunResult, runTool } from "./support/run_tool.ts";
import { readBytes, tempVault } from "./support/temp.ts";

/** Longest any refusal may take: far below a hang, and below `SECRETS_TIMEOUT`. */
const BOUND_MS = 20_000;

const KEY = "q8Vz2mT5xK0rL7wP3nB9cF4hJ6dS1gYe";

/** A 1 KB vault whose aliases expand to 10^10 values: 10 levels of 10 aliases. */
function billionLaughs(): string {
  const lines = ['a0: &a0 "lol"'];
  for (let level = 1; level <= 10; level++) {
    const refs = Array.from({ length: 10 }, () => `*a${level - 1}`).join(", ");
    lines.push(`a${level}: &a${level} [${refs}]`);
  }
  return `${lines.join("\n")}\n`;
}

async function mkfifo(path: string): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: [path], stderr: "piped" }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

/** Assert the run refused within the bound, exit 6, one error line matching `line`. */
function assertRefused(result: RunResult, line: RegExp): void {
  assert.ok(result.wallMs < BOUND_MS, `took ${Math.round(result.wallMs)} ms (killed?)`);
  assert.equal(result.code, 6, `exit code; stderr:\n${result.stderr}`);
  assertOneErrorLine(result, line);
}

Deno.test("an alias bomb in the vault fails every command with exit 6 within a second", async () => {
  await using tmp = await tempVault(billionLaughs());
  assert.ok((await Deno.stat(tmp.vault)).size < 1100, "the bomb is about 1 KB");
  // Each command's own time on a harmless vault under this machine's load (a load also
  // runs the custom script) is what the refusal is measured against.
  await using plain = await tempVault("A: b\n");
  await using source = await customSource({ "X.Y": "z" });
  const runs: [string, string[], (vault: string) => Record<string, string>][] = [
    ["get", ["get", "a0"], (vault) => ({ SECRETS_VAULT_PATH: vault })],
    ["export", ["export", "--format", "json"], (vault) => ({ SECRETS_VAULT_PATH: vault })],
    ["mask", ["mask"], (vault) => ({ SECRETS_VAULT_PATH: vault })],
    ["load", [], (vault) => customEnv(source.script, vault)],
  ];
  for (const [name, args, env] of runs) {
    const baseline = await runTool(args, env(plain.vault), { killAfterMs: BOUND_MS });
    const snap = await snapshot(tmp.vault);
    const result = await runTool(args, env(tmp.vault), { killAfterMs: BOUND_MS });
    await assertCleanFailure(result, snap, {
      code: 6,
      line: /vault .*vault\.yml expands its aliases .* more than 100 times/,
    });
    assert.ok(
      result.wallMs - baseline.wallMs < 1000,
      `${name}: ${Math.round(result.wallMs)} ms against ${Math.round(baseline.wallMs)} ms`,
    );
  }
});

Deno.test("a vault using a few aliases still reads", async () => {
  await using tmp = await tempVault("base: &b x\nA:\n  B: *b\n  C: *b\n");
  const result = await runTool(["get", "A.C"], { SECRETS_VAULT_PATH: tmp.vault });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "x");
});

Deno.test("a FIFO at the vault, lock, manifest, salt or encrypted path fails at once with exit 6", async () => {
  await using source = await customSource({ "X.Y": "z" });
  const cases: { what: string; file: string; args: string[]; key?: boolean; line: RegExp }[] = [
    {
      what: "vault (get)",
      file: "vault.yml",
      args: ["get", "A"],
      line: /the vault .*vault\.yml is a FIFO/,
    },
    { what: "vault (load)", file: "vault.yml", args: [], line: /the vault .*vault\.yml is a FIFO/ },
    {
      what: "lock",
      file: "vault.yml.lock",
      args: [],
      line: /the vault lock .*vault\.yml\.lock is a FIFO/,
    },
    {
      what: "manifest",
      file: "vault.yml.manifest.json",
      args: [],
      line: /the manifest .*vault\.yml\.manifest\.json is a FIFO/,
    },
    {
      what: "salt",
      file: "vault.salt",
      args: [],
      key: true,
      line: /the salt file .*vault\.salt is a FIFO/,
    },
    {
      what: "encrypted vault",
      file: "vault.yml.enc",
      args: ["get", "A"],
      key: true,
      line: /the encrypted vault .*vault\.yml\.enc is a FIFO/,
    },
    {
      what: "encrypted vault, no key",
      file: "vault.yml.enc",
      args: ["get", "A"],
      line: /the encrypted vault .*vault\.yml\.enc is a FIFO/,
    },
  ];
  for (const test of cases) {
    await using tmp = await tempVault(test.file === "vault.yml" ? undefined : "A: b\n");
    await mkfifo(`${tmp.dir}/${test.file}`);
    const env = customEnv(source.script, tmp.vault, test.key ? { DATAOPS_VAULT_KEY: KEY } : {});
    const result = await runTool(test.args, env, { killAfterMs: BOUND_MS });
    assertRefused(result, test.line);
    assert.ok((await Deno.lstat(`${tmp.dir}/${test.file}`)).isFifo, `${test.what}: still a FIFO`);
    if (test.file !== "vault.yml") {
      assert.equal(await Deno.readTextFile(tmp.vault), "A: b\n", `${test.what}: vault unchanged`);
    }
  }
});

Deno.test("a vault linked to /dev/zero is refused, not read without limit", async () => {
  await using tmp = await tempVault();
  await Deno.symlink("/dev/zero", tmp.vault);
  const result = await runTool(["get", "A"], { SECRETS_VAULT_PATH: tmp.vault }, {
    killAfterMs: BOUND_MS,
  });
  assertRefused(result, /the vault .*vault\.yml is a symbolic link, not a regular file/);
});

Deno.test("a vault larger than 16 MiB is refused naming the limit", async () => {
  await using tmp = await tempVault("A: b\n");
  await Deno.truncate(tmp.vault, 16 * 1024 * 1024 + 1);
  const result = await runTool(["get", "A"], { SECRETS_VAULT_PATH: tmp.vault }, {
    killAfterMs: BOUND_MS,
  });
  assertRefused(result, /the vault .*vault\.yml is larger than 16 MiB/);
});

Deno.test("100,000 keys in one mapping read in bounded time, and a repeated one is named by its line", async () => {
  const lines = Array.from({ length: 100_000 }, (_, i) => `K${i}: v${i}`);
  await using tmp = await tempVault(`${lines.join("\n")}\n`);
  const env = { SECRETS_VAULT_PATH: tmp.vault };
  const got = await runTool(["get", "K99999"], env, { killAfterMs: BOUND_MS });
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, "v99999");
  await Deno.writeTextFile(tmp.vault, `${lines.join("\n")}\nK7: again\n`);
  const snap = await snapshot(tmp.vault);
  const repeated = await runTool(["get", "K1"], env, { killAfterMs: BOUND_MS });
  await assertCleanFailure(repeated, snap, {
    code: 6,
    line: /the vault .*vault\.yml is not valid YAML at line 100001 \(DUPLICATE_KEY\)/,
  });
  assert.ok(repeated.wallMs < BOUND_MS, `took ${Math.round(repeated.wallMs)} ms`);
});

Deno.test("links planted in the vault folder are refused, and their targets left alone", async () => {
  await using source = await customSource({ "X.Y": "z" });
  await using outside = await tempVault("A: outside\n");
  const target = outside.vault;
  const cases: { file: string; args: string[]; key?: boolean; line: RegExp }[] = [
    { file: "vault.yml", args: ["get", "A"], line: /the vault .*vault\.yml is a symbolic link/ },
    { file: "vault.yml", args: [], line: /the vault .*vault\.yml is a symbolic link/ },
    { file: "vault.yml.lock", args: [], line: /the vault lock .* is a symbolic link/ },
    { file: "vault.yml.manifest.json", args: [], line: /the manifest .* is a symbolic link/ },
    { file: "vault.salt", args: [], key: true, line: /the salt file .* is a symbolic link/ },
    {
      file: "vault.yml.enc",
      args: ["get", "A"],
      key: true,
      line: /encrypted vault .* symbolic link/,
    },
  ];
  for (const test of cases) {
    await using tmp = await tempVault(test.file === "vault.yml" ? undefined : "A: b\n");
    await Deno.symlink(target, `${tmp.dir}/${test.file}`);
    const snap = await snapshot(target);
    const env = customEnv(source.script, tmp.vault, test.key ? { DATAOPS_VAULT_KEY: KEY } : {});
    const result = await runTool(test.args, env, { killAfterMs: BOUND_MS });
    await assertCleanFailure(result, snap, { code: 6, line: test.line, secrets: ["outside"] });
    assert.ok((await Deno.lstat(`${tmp.dir}/${test.file}`)).isSymlink, `${test.file}: link kept`);
  }
  // A dangling lock link: following it would create the file it names.
  await using tmp = await tempVault("A: b\n");
  const away = `${outside.dir}/created-by-the-tool`;
  await Deno.symlink(away, `${tmp.vault}.lock`);
  const result = await runTool([], customEnv(source.script, tmp.vault), { killAfterMs: BOUND_MS });
  assertRefused(result, /the vault lock .* is a symbolic link/);
  assert.equal(await readBytes(away), null, "the link's target was not created");
  assert.equal(await Deno.readTextFile(tmp.vault), "A: b\n");
});

Deno.test("inherited object members are not vault keys: get, render, export and mask", async () => {
  await using tmp = await tempVault("A:\n  B: b\n__proto__: own\n");
  const env = { SECRETS_VAULT_PATH: tmp.vault };
  for (const path of ["constructor", "toString", "A.constructor", "A.B.length", "hasOwnProperty"]) {
    for (const args of [["get", path], ["export", "--format", "json", path], ["mask", path]]) {
      const snap = await snapshot(tmp.vault);
      const result = await runTool(args, env);
      await assertCleanFailure(result, snap, { code: 6, line: /is not in the vault/ });
      assert.equal(result.stdout, "", `${args.join(" ")}: nothing printed`);
    }
  }
  const own = await runTool(["get", "__proto__"], env);
  assert.equal(own.code, 0, own.stderr);
  assert.equal(own.stdout, "own", "a key really named __proto__ is read");
  await using template = await tempVault();
  const file = `${template.dir}/t.txt`;
  await Deno.writeTextFile(
    file,
    '{{ toString | default("x") }} {{ A.B }} {{ constructor | default("y") }}\n',
  );
  const rendered = await runTool(["render", file], env);
  assert.equal(rendered.code, 0, rendered.stderr);
  assert.equal(rendered.stdout, "x b y\n");
  await Deno.writeTextFile(file, "DATAOPS_VAULT(constructor)\n");
  const missing = await runTool(["render", file], env);
  assertRefused(missing, /vault key constructor is not in the vault/);
  assert.equal(missing.stdout, "");
});

Deno.test("a key starting with a byte order mark keeps its name; a file's leading BOM is only an encoding mark", async () => {
  await using source = await customSource({ "\ufeffFIRST": "bom-key-value" });
  await using tmp = await tempVault();
  const load = await runTool([], customEnv(source.script, tmp.vault));
  assert.equal(load.code, 0, load.stderr);
  assert.ok(!(await Deno.readTextFile(tmp.vault)).includes("\ufeff"), "written escaped, never raw");
  const env = { SECRETS_VAULT_PATH: tmp.vault };
  const got = await runTool(["get", "\ufeffFIRST"], env);
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, "bom-key-value");
  const renamed = await runTool(["get", "FIRST"], env);
  assert.equal(renamed.code, 6, "the key was not renamed");
  await using marked = await tempVault("\ufeffA: x\n");
  const mark = await runTool(["get", "A"], { SECRETS_VAULT_PATH: marked.vault });
  assert.equal(mark.code, 0, mark.stderr);
  assert.equal(mark.stdout, "x");
});

Deno.test("a vault that is not UTF-8 is refused, not rewritten with replacement characters", async () => {
  await using source = await customSource({ "X.Y": "z" });
  await using tmp = await tempVault();
  await Deno.writeFile(
    tmp.vault,
    new Uint8Array([...new TextEncoder().encode("A: caf"), 0xe9, 10]),
  );
  for (const args of [["get", "A"], []]) {
    const snap = await snapshot(tmp.vault);
    const result = await runTool(args, customEnv(source.script, tmp.vault));
    await assertCleanFailure(result, snap, {
      code: 6,
      line: /the vault .*vault\.yml is not UTF-8 text/,
    });
  }
});
