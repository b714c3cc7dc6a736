/**
 * One rule for names with separators, on every backend (lib/kit/mapping.ts nameToPath):
 * one leading separator is the root and is dropped (`/lead/x` → `lead.x`); any other empty
 * part (`a//b`, `trail/`, `//x`) is a conflict (exit 5) naming the secret, and nothing is
 * written.
 */

import assert from "node:assert/strict";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { runTool } from "./support/run_tool.ts";
import { tempVault } from "./support/temp.ts";
import { testKeys, vaultWithKeys, withFakes } from "./support/aws.ts";
import { at, readVaultDoc } from "./support/vault.ts";
import { secretsManagerFake } from "./fakes/aws_secrets_manager.ts";

async function load(names: string[]) {
  const secrets = names.map((name, i) => ({ name, string: `name-rule-value-${i}-0123` }));
  const sm = secretsManagerFake(secrets, testKeys());
  return await withFakes([sm.handler], async ([fake]) => {
    const tmp = await tempVault(vaultWithKeys("KEEP: me\n"));
    const snap = await snapshot(tmp.vault);
    const result = await runTool([], {
      SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
      SECRETS_VAULT_PATH: tmp.vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
    });
    return { tmp, snap, result, values: secrets.map((s) => s.string) };
  });
}

Deno.test("names: one leading separator is the root of the path", async () => {
  const { tmp, result } = await load(["/lead/x", "plain/y"]);
  await using _ = tmp;
  assert.equal(result.code, 0, result.stderr);
  const doc = await readVaultDoc(tmp.vault);
  assert.equal(at(doc, "lead.x"), "name-rule-value-0-0123");
  assert.equal(at(doc, "plain.y"), "name-rule-value-1-0123");
  assert.equal(at(doc, "KEEP"), "me");
});

for (
  const [name, where] of [
    ["a//b", "has a doubled"],
    ["trail/", "ends with"],
    ["//lead", "starts with more than one"],
  ]
) {
  Deno.test(`names: "${name}" is refused like "a..b", naming the secret`, async () => {
    const { tmp, snap, result, values } = await load([name, "fine/one"]);
    await using _ = tmp;
    await assertCleanFailure(result, snap, {
      code: 5,
      line: new RegExp(`secret "${name.replaceAll("/", "\\/")}" ${where} separator "/"`),
      secrets: values,
    });
  });
}
