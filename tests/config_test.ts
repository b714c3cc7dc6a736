import assert from "node:assert/strict";
import { resolveConfig } from "../lib/cli/config.ts";
import { parseBool } from "../lib/kit/params.ts";
import { isKind } from "../lib/kit/errors.ts";
import { allParams } from "../lib/cli/params.ts";
import { kindOf } from "./support/assertions.ts";

const params = allParams();

Deno.test("defaults follow the reference tool", async () => {
  const config = await resolveConfig([], {}, params);
  assert.equal(config.backend, "AWS_SECRETS_MANAGER");
  assert.equal(config.vaultPath, "/secrets/vault.yml");
  assert.equal(config.settings.expandJson, false);
  assert.equal(config.command, "load");
});

Deno.test("vault path: --vault, then SECRETS_VAULT_PATH, then DATAOPS_SECRETS_DIR", async () => {
  assert.equal(
    (await resolveConfig([], { DATAOPS_SECRETS_DIR: "/s/" }, params)).vaultPath,
    "/s/vault.yml",
  );
  const env = { DATAOPS_SECRETS_DIR: "/s", SECRETS_VAULT_PATH: "/v.yml" };
  assert.equal((await resolveConfig([], env, params)).vaultPath, "/v.yml");
  assert.equal((await resolveConfig(["--vault", "/f.yml"], env, params)).vaultPath, "/f.yml");
});

Deno.test("flags override environment variables", async () => {
  const config = await resolveConfig(
    ["load", "--manager", "NONE", "--selection", "a, b ,,c", "--expand-json"],
    { SECRETS_MANAGER: "CUSTOM", SECRETS_SELECTION: "x" },
    params,
  );
  assert.equal(config.backend, "NONE");
  assert.deepEqual(config.settings.selection, ["a", "b", "c"]);
  assert.equal(config.settings.expandJson, true);
});

Deno.test("unknown values are errors listing the accepted ones", async () => {
  await assert.rejects(
    () => resolveConfig([], { SECRETS_MANAGER: "FOO" }, params),
    (error: unknown) => {
      assert.ok(isKind(error, "config"));
      assert.match(error.message, /AWS_SECRETS_MANAGER, AWS_PARAMETER_STORE/);
      return true;
    },
  );
  assert.throws(() => parseBool("SECRETS_EXPAND_JSON", "maybe", false), /1, true, yes/);
  for (const word of ["1", "TRUE", "Yes"]) assert.equal(parseBool("X", word, false), true);
  await assert.rejects(() => resolveConfig(["--bogus"], {}, params), kindOf("config"));
  await assert.rejects(() => resolveConfig(["unload"], {}, params), /unknown command/);
  await assert.rejects(
    () => resolveConfig([], { SECRETS_TIMEOUT: "-1" }, params),
    /SECRETS_TIMEOUT/,
  );
});
