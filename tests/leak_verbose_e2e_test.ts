/**
 * Nothing leaks at `--verbose`: every network backend's scenario (under injected faults, so
 * retry and cause lines are printed too), each auth path, and a custom script that prints
 * its values' derived forms (each line, JSON leaves, base64, URL encoding) on stderr. Stdout
 * and stderr are scanned for every value and credential in every derived form: zero hits.
 */

import assert from "node:assert/strict";
import { assertNoLeak } from "./support/assertions.ts";
import { runTool } from "./support/run_tool.ts";
import { tempVault } from "./support/temp.ts";
import { WORLDS } from "./support/fault_worlds.ts";
import { startFake } from "./fakes/server.ts";
import { secretsManagerFake } from "./fakes/aws_secrets_manager.ts";
import { ACCESS_KEY_ID, SECRET_KEY, testKeys } from "./support/aws.ts";
import { APP_ID, FULL_ACCESS, principalEnv, startAzure } from "./support/azure.ts";
import {
  ALL_VALUES,
  CREDENTIALS,
  jwtKeys,
  ROOT_TOKEN,
  seed,
  signJwt,
  startVault,
  vaultEnv,
} from "./support/hashicorp_vault.ts";
import { customEnv, customSource } from "./support/custom_source.ts";

for (const spec of WORLDS) {
  Deno.test(`--verbose leaks nothing: ${spec.name} under 20% faults`, async () => {
    const world = spec.start({
      seed: 4242,
      rate: 0.2,
      kinds: ["throttle", "unavailable", "truncate", "malformed"],
    });
    try {
      await using tmp = await tempVault(world.vault);
      const { vault } = tmp;
      const result = await runTool(["--verbose"], { ...world.env, SECRETS_VAULT_PATH: vault });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /retry/, "retry lines were printed and scanned");
      assertNoLeak(result, world.secrets());
    } finally {
      await world.close();
    }
  });
}

Deno.test("--verbose leaks nothing: AWS keys from the environment with a session-less key pair", async () => {
  const sm = secretsManagerFake([
    {
      name: "env/json",
      string: '{"DB.USER":"env-user-value","DB.PASS":"env-pass/with+b64=chars"}',
    },
    { name: "env/multi", string: "first-line-secret\nsecond-line-secret\n" },
  ], testKeys());
  const server = startFake(sm.handler);
  try {
    await using tmp = await tempVault();
    const { vault } = tmp;
    const result = await runTool(["--verbose"], {
      SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      SECRETS_AWS_USE_ROLE: "1",
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      SECRETS_VAULT_PATH: vault,
    });
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, [
      "env-user-value",
      "env-pass/with+b64=chars",
      "first-line-secret\nsecond-line-secret\n",
      SECRET_KEY,
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("--verbose leaks nothing: Azure service principal with a client secret from the vault", async () => {
  const clientSecret = "azure-client-s3cret~value";
  const world = startAzure({ apps: [{ clientId: APP_ID, secret: clientSecret }] }, {
    secrets: [{ name: "SP-JSON", value: '{"inner":"azure-json-leaf-value"}' }],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault(`AZURE:\n  DEFAULT:\n    CLIENT_SECRET: ${clientSecret}\n`);
    const { vault } = tmp;
    const result = await runTool(["--verbose"], {
      ...principalEnv(world, vault),
      SECRETS_EXPAND_JSON: "1",
    });
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, [clientSecret, "azure-json-leaf-value", ...world.identity.seen]);
  } finally {
    await world.close();
  }
});

Deno.test("--verbose leaks nothing: HashiCorp Vault token and JWT logins", async () => {
  const { privateKey, publicKey } = await jwtKeys();
  const jwt = await signJwt(privateKey, { project_id: "12345", ref: "main" });
  const { server, vault } = startVault(seed(publicKey));
  try {
    const auths: Record<string, string>[] = [
      { SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN },
      { SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role", SECRETS_HASHICORP_VAULT_JWT: jwt },
    ];
    for (const auth of auths) {
      await using tmp = await tempVault();
      const { vault: path } = tmp;
      const result = await runTool(["--verbose"], vaultEnv(server.url, path, auth));
      assert.equal(result.code, 0, result.stderr);
      assertNoLeak(result, [...ALL_VALUES, ...CREDENTIALS, jwt, ...vault.counters.issued]);
    }
    assert.ok(vault.counters.issued.length >= 1, "a login token was issued and scanned for");
  } finally {
    await server.close();
  }
});

Deno.test("--verbose: a script printing every derived form of its values shows only masks", async () => {
  const multi = "line-one-secret\nline-two-secret";
  const json = '{"leaf":"json-leaf-secret","n":{"deep":"deep-leaf-secret"}}';
  const plain = "plain secret/with+special=chars&more";
  await using source = await customSource({ "A.MULTI": multi, "A.JSON": json, "A.PLAIN": plain });
  // Replace the script: the same values, and every derived form printed on stderr.
  await Deno.writeTextFile(
    source.script,
    [
      "import base64, json, os, sys, urllib.parse",
      "def get_secrets():",
      "    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'secrets.json'), encoding='utf-8') as f:",
      "        s = json.load(f)",
      "    for v in s.values():",
      "        for form in [v, base64.b64encode(v.encode()).decode(), urllib.parse.quote(v, safe=''), json.dumps(v)[1:-1]] + v.split('\\n'):",
      "            print('debug: ' + form, file=sys.stderr)",
      "    print('leaf: json-leaf-secret deep-leaf-secret', file=sys.stderr)",
      "    return s",
      "",
    ].join("\n"),
  );
  await using tmp = await tempVault();
  const { vault } = tmp;
  const result = await runTool(["--verbose"], customEnv(source.script, vault));
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /custom script: debug: \*\*\*/,
    "the script's lines were shown, masked",
  );
  assertNoLeak(result, [multi, json, plain]);
});
