import assert from "node:assert/strict";
import { assertNoLeak, assertOneErrorLine } from "./support/assertions.ts";
import { disposeAll, readBytes, tempVault } from "./support/temp.ts";
import { runTool } from "./support/run_tool.ts";
import { customEnv, customSource } from "./support/custom_source.ts";
import { derivedForms } from "../lib/output/redact.ts";
import { sha256Hex } from "../lib/vault/manifest.ts";

const FIRST = {
  "ci_SNOWFLAKE.TRANSFORM": '{"USERNAME":"transform-user","PASSWORD":"first-password-1"}',
  "ci_API.TOKEN": "first-token-abc",
};
const SECOND = {
  "ci_SNOWFLAKE.TRANSFORM": '{"USERNAME":"transform-user","PASSWORD":"second-password-2"}',
  "ci_API.TOKEN": "first-token-abc",
  "ci_API.NEW": "new-value-xyz",
};
const VALUES = [
  "transform-user",
  "first-password-1",
  "second-password-2",
  "first-token-abc",
  "new-value-xyz",
  FIRST["ci_SNOWFLAKE.TRANSFORM"],
  SECOND["ci_SNOWFLAKE.TRANSFORM"],
];

async function setup() {
  const source = await customSource(FIRST);
  const tmp = await tempVault("# kept\nLOCAL:\n  NOTE: hand-written-value\n");
  const { dir, vault } = tmp;
  const env = customEnv(source.script, vault, {
    SECRETS_STRIP_PREFIX: "ci_",
    SECRETS_EXPAND_JSON: "1",
  });
  const manifest = `${vault}.manifest.json`;
  return { source, dir, vault, env, manifest, [Symbol.asyncDispose]: disposeAll(source, tmp) };
}

/** A load that must succeed, printing no value. */
async function loadOk(env: Record<string, string>): Promise<void> {
  const result = await runTool([], env);
  assert.equal(result.code, 0, result.stderr);
  assertNoLeak(result, [...VALUES, "hand-written-value", env.DATAOPS_VAULT_KEY ?? "unset-key"]);
}

function assertNoValues(text: string, values: readonly string[]): void {
  for (const value of values) {
    for (const form of derivedForms(value)) {
      assert.ok(!text.includes(form), "a value in the manifest");
    }
  }
}

Deno.test("each load writes a manifest of provenance, without values", async () => {
  await using fixture = await setup();
  const { vault, env, manifest } = fixture;
  const started = new Date().toISOString();
  const result = await runTool([], env);
  assert.equal(result.code, 0, result.stderr);
  assertNoLeak(result, [...VALUES, "hand-written-value"]);
  const text = await Deno.readTextFile(manifest);
  assertNoValues(text, [...VALUES, "hand-written-value"]);
  assert.equal((await Deno.stat(manifest)).mode! & 0o777, 0o600);
  const data = JSON.parse(text);
  assert.equal(data.format, 1);
  assert.equal(data.vault, "vault.yml");
  assert.equal(data.encrypted, false);
  assert.equal(data.backend, "CUSTOM");
  assert.equal(data.vaultSha256, await sha256Hex(await Deno.readTextFile(vault)));
  assert.deepEqual(Object.keys(data.keys), [
    "API.TOKEN",
    "SNOWFLAKE.TRANSFORM.PASSWORD",
    "SNOWFLAKE.TRANSFORM.USERNAME",
  ], "hand-written keys have no provenance");
  assert.deepEqual(
    { ...data.keys["SNOWFLAKE.TRANSFORM.PASSWORD"], fetched: "" },
    { backend: "CUSTOM", source: "ci_SNOWFLAKE.TRANSFORM", fetched: "" },
  );
  assert.equal(data.keys["API.TOKEN"].source, "ci_API.TOKEN");
  const fetched = data.keys["API.TOKEN"].fetched;
  assert.ok(fetched >= started && fetched <= data.loaded, `${started} ${fetched} ${data.loaded}`);
});

Deno.test("--dry-run prints the redacted diff with provenance and writes nothing", async () => {
  await using fixture = await setup();
  const { source, vault, env, manifest } = fixture;
  await loadOk(env);
  const before = await Deno.readTextFile(manifest);
  const recorded = JSON.parse(before).keys["SNOWFLAKE.TRANSFORM.PASSWORD"].fetched;
  await source.set(SECOND);
  const vaultBytes = await readBytes(vault);
  const dry = await runTool(["--dry-run"], env);
  assert.equal(dry.code, 0, dry.stderr);
  assertNoLeak(dry, [...VALUES, "hand-written-value"]);
  assert.deepEqual(dry.stdout.trim().split("\n"), [
    'add       API.NEW  from CUSTOM "ci_API.NEW"',
    `change    SNOWFLAKE.TRANSFORM.PASSWORD  from CUSTOM "ci_SNOWFLAKE.TRANSFORM"; vault has CUSTOM "ci_SNOWFLAKE.TRANSFORM" fetched ${recorded}`,
    'unchanged API.TOKEN  from CUSTOM "ci_API.TOKEN"',
    'unchanged SNOWFLAKE.TRANSFORM.USERNAME  from CUSTOM "ci_SNOWFLAKE.TRANSFORM"',
  ]);
  assert.match(dry.stderr, /dry run: 1 to add, 1 to change, 2 unchanged; nothing written/);
  assert.deepEqual(await readBytes(vault), vaultBytes);
  assert.equal(await Deno.readTextFile(manifest), before);
});

Deno.test("the manifest keeps earlier provenance, drops removed keys, and flags a hand-edited vault", async () => {
  await using fixture = await setup();
  const { source, vault, env, manifest } = fixture;
  await loadOk(env);
  const first = JSON.parse(await Deno.readTextFile(manifest));
  await source.set(SECOND);
  const partial = await runTool([], { ...env, SECRETS_SELECTION_FILTER: "API" });
  assert.equal(partial.code, 0, partial.stderr);
  assertNoLeak(partial, VALUES);
  const second = JSON.parse(await Deno.readTextFile(manifest));
  assert.deepEqual(
    second.keys["SNOWFLAKE.TRANSFORM.PASSWORD"],
    first.keys["SNOWFLAKE.TRANSFORM.PASSWORD"],
    "a key not fetched this time keeps its record",
  );
  assert.ok(second.keys["API.NEW"].fetched > first.keys["API.TOKEN"].fetched);

  const edited = (await Deno.readTextFile(vault)).replace(/\n {2}NEW: .*\n/, "\n");
  await Deno.writeTextFile(vault, edited);
  const dry = await runTool(["--dry-run"], { ...env, SECRETS_SELECTION_FILTER: "SNOWFLAKE" });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stderr, /manifest .* does not describe the current vault/);
  assert.ok(!dry.stdout.includes("vault has"), "stale provenance is not shown");
  assertNoLeak(dry, VALUES);

  await loadOk({ ...env, SECRETS_SELECTION_FILTER: "SNOWFLAKE" });
  const third = JSON.parse(await Deno.readTextFile(manifest));
  assert.equal(third.keys["API.NEW"], undefined, "a key removed from the vault is dropped");
  assert.equal(third.vaultSha256, await sha256Hex(await Deno.readTextFile(vault)));
});

Deno.test("a failed load leaves both the vault and the manifest byte-for-byte unchanged", async () => {
  await using fixture = await setup();
  const { source, vault, env, manifest } = fixture;
  await loadOk(env);
  const vaultBytes = await readBytes(vault);
  const manifestBytes = await readBytes(manifest);
  await source.set({ ...SECOND, "ci_API.TOKEN.BELOW": "below-a-value-1" });
  const result = await runTool([], env);
  assert.equal(result.code, 5);
  assertOneErrorLine(result, /API\.TOKEN/);
  assertNoLeak(result, [...VALUES, "below-a-value-1"]);
  assert.deepEqual(await readBytes(vault), vaultBytes);
  assert.deepEqual(await readBytes(manifest), manifestBytes);
});

Deno.test("an encrypted vault's manifest names the encrypted file and hashes its ciphertext", async () => {
  await using fixture = await setup();
  const { vault, env, manifest } = fixture;
  const key = "manifest-test-key-0123456789";
  await loadOk(env);
  const migrate = await runTool(["--dry-run"], { ...env, DATAOPS_VAULT_KEY: key });
  assert.equal(migrate.code, 0, migrate.stderr);
  assert.ok(!migrate.stderr.includes("does not describe"), "the plain base layer matches");
  assert.match(migrate.stdout, /; vault has CUSTOM|unchanged API\.TOKEN/);
  const result = await runTool([], { ...env, DATAOPS_VAULT_KEY: key });
  assert.equal(result.code, 0, result.stderr);
  assertNoLeak(result, [...VALUES, key, "hand-written-value"]);
  const text = await Deno.readTextFile(manifest);
  assertNoValues(text, [...VALUES, "hand-written-value"]);
  const data = JSON.parse(text);
  assert.equal(data.vault, "vault.yml.enc");
  assert.equal(data.encrypted, true);
  assert.equal(data.vaultSha256, await sha256Hex(await Deno.readTextFile(`${vault}.enc`)));
  const dry = await runTool(["--dry-run"], { ...env, DATAOPS_VAULT_KEY: key });
  assert.equal(dry.code, 0, dry.stderr);
  assert.ok(!dry.stderr.includes("does not describe"), dry.stderr);
  assertNoLeak(dry, [...VALUES, key]);
});
