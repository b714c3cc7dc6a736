import assert from "node:assert/strict";
import { samePermissions, startEarlyCore } from "../lib/cli/early_core.ts";
import { resolveConfig } from "../lib/cli/config.ts";
import { allParams } from "../lib/cli/params.ts";
import { absolute, commandPermissions } from "../lib/isolation/permissions.ts";
import { runTool } from "./support/run_tool.ts";

const params = allParams();

/** `startEarlyCore` over `env`; the Worker, when one starts, is stopped at once. */
function early(args: string[], env: Record<string, string>, cwd: string) {
  const started = startEarlyCore(args, (name) => env[name], cwd);
  started?.core.terminate();
  return started;
}

Deno.test("the core Worker starts early only for a NONE load of a plain vault with no arguments", () => {
  const cwd = Deno.cwd();
  const none = { SECRETS_MANAGER: "NONE", SECRETS_VAULT_PATH: "/tmp/v.yml" };
  assert.ok(early([], none, cwd));
  assert.ok(early([], { ...none, SECRETS_MANAGER: " none " }, cwd));
  assert.equal(early(["--dry-run"], none, cwd), undefined);
  assert.equal(early(["get", "A.B"], none, cwd), undefined);
  assert.equal(early([], { ...none, SECRETS_MANAGER: "CUSTOM" }, cwd), undefined);
  assert.equal(early([], { SECRETS_VAULT_PATH: "/tmp/v.yml" }, cwd), undefined);
  // Any DATAOPS_VAULT_KEY, even an empty one, means another set of files.
  assert.equal(early([], { ...none, DATAOPS_VAULT_KEY: "" }, cwd), undefined);
  assert.equal(early([], { ...none, DATAOPS_VAULT_KEY: "k".repeat(32) }, cwd), undefined);
});

Deno.test("the early Worker's permissions are the ones the full configuration gives", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-early-" });
  try {
    await Deno.mkdir(`${dir}/exists`);
    const cwd = `${dir}/exists`;
    const paths: Record<string, string | undefined>[] = [
      {},
      { SECRETS_VAULT_PATH: "" },
      { SECRETS_VAULT_PATH: "v.yml" },
      { SECRETS_VAULT_PATH: `${dir}/exists/v.yml` },
      { SECRETS_VAULT_PATH: `${dir}/absent/v.yml` },
      { DATAOPS_SECRETS_DIR: `${dir}/exists//` },
      { DATAOPS_SECRETS_DIR: "sub" },
      { DATAOPS_SECRETS_DIR: "", SECRETS_VAULT_PATH: "x/v.yml" },
      { DATAOPS_SECRETS_DIR: `${dir}/absent`, SECRETS_VAULT_PATH: "" },
    ];
    for (const path of paths) {
      const env: Record<string, string> = { SECRETS_MANAGER: "NONE" };
      for (const [name, value] of Object.entries(path)) if (value !== undefined) env[name] = value;
      const started = early([], env, cwd);
      assert.ok(started, JSON.stringify(env));
      const config = await resolveConfig([], env, params);
      const full = commandPermissions(
        { ...config, vaultPath: absolute(config.vaultPath, cwd) },
        cwd,
      );
      assert.deepEqual(started.perms, full, JSON.stringify(env));
      assert.ok(samePermissions(started.perms, full));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("samePermissions tells sets apart by any entry", () => {
  const base = { read: ["/a"], write: ["/a"], net: [], run: [] };
  assert.ok(samePermissions(base, { read: ["/a"], write: ["/a"], net: [], run: [] }));
  assert.ok(!samePermissions(base, { ...base, write: ["/a", "/b"] }));
  assert.ok(!samePermissions(base, { ...base, read: ["/b"] }));
  assert.ok(!samePermissions(base, { ...base, net: ["h:443"] }));
});

Deno.test("a NONE load from the environment alone: into a new folder, and with a config error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "secrets-orchestrator-early-" });
  try {
    // The folder does not exist yet: the early Worker may create it (and only it).
    const vault = `${dir}/new/vault.yml`;
    const text = "APP:\n  USER: app\n";
    const first = await runTool([], { SECRETS_MANAGER: "NONE", SECRETS_VAULT_PATH: vault });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await Deno.readTextFile(vault), "{}\n");
    await Deno.writeTextFile(vault, text);
    const again = await runTool([], { SECRETS_MANAGER: "NONE", SECRETS_VAULT_PATH: vault });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await Deno.readTextFile(vault), text);
    const manifest = JSON.parse(await Deno.readTextFile(`${vault}.manifest.json`));
    assert.equal(manifest.backend, "NONE");
    // A bad parameter fails as it always did, though the Worker had started.
    const bad = await runTool([], {
      SECRETS_MANAGER: "NONE",
      SECRETS_VAULT_PATH: vault,
      SECRETS_LOCK_TIMEOUT: "soon",
    });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /SECRETS_LOCK_TIMEOUT/);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    assert.equal(await Deno.readTextFile(vault), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
