/**
 * Leaks through the edges of messages: a backend's error text is redacted before it is
 * cut (a credential cut in half no longer matches the redactor), and configured URLs are
 * quoted without their userinfo or query string.
 */

import assert from "node:assert/strict";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { runTool } from "./support/run_tool.ts";
import { tempDir, tempVault } from "./support/temp.ts";
import { assertNoLeak } from "./support/assertions.ts";
import { customEnv } from "./support/custom_source.ts";

const PASSWORD = "Zq9v-Secret-Pw-0123456789abcdef";

/** No prefix of `secret` of 8 characters or more appears in `text`. */
function assertNoPrefix(text: string, secret: string): void {
  for (let n = 8; n <= secret.length; n++) {
    assert.ok(!text.includes(secret.slice(0, n)), `a ${n}-character prefix leaked:\n${text}`);
  }
}

Deno.test("backend error text is redacted before it is cut: no half credential", async () => {
  // Vault echoes the password where a cut at 300 characters would split it.
  let pad = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      Response.json(
        { errors: [`invalid credentials: ${"x".repeat(pad)}${PASSWORD} and more`] },
        { status: 400 },
      ),
  );
  try {
    for (pad of [255, 265, 275]) {
      await using tmp = await tempVault("KEEP: me\n");
      const snap = await snapshot(tmp.vault);
      const result = await runTool([], {
        SECRETS_MANAGER: "HASHICORP_VAULT",
        SECRETS_HASHICORP_VAULT_URL: `http://127.0.0.1:${server.addr.port}`,
        SECRETS_HASHICORP_VAULT_USERNAME: "ci",
        SECRETS_HASHICORP_VAULT_PASSWORD: PASSWORD,
        SECRETS_VAULT_PATH: tmp.vault,
      });
      await assertCleanFailure(result, snap, {
        code: 3,
        line: /userpass login for ci was refused \(HTTP 400\): invalid credentials: x+/,
        secrets: [PASSWORD],
      });
      assertNoPrefix(result.stderr, PASSWORD);
      assert.ok(result.stderr.length < 1000, `the detail is still cut (pad ${pad})`);
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("configuration errors never quote a URL's user info or query string", async () => {
  const PW = "PW-in-userinfo-4417";
  const TOKEN = "TOKEN-in-query-9921";
  const rows: { what: string; env: Record<string, string>; line: RegExp }[] = [
    {
      what: "HashiCorp Vault URL with another scheme",
      env: {
        SECRETS_MANAGER: "HASHICORP_VAULT",
        SECRETS_HASHICORP_VAULT_URL: `ftp://ci:${PW}@vault.example.com/?token=${TOKEN}`,
        SECRETS_HASHICORP_VAULT_TOKEN: "hvs.leak-test-token-0001",
      },
      line:
        /SECRETS_HASHICORP_VAULT_URL="ftp:\/\/\*\*\*@vault\.example\.com\/\?\*\*\*" must be an http/,
    },
    {
      what: "HashiCorp Vault URL that is not a URL",
      env: {
        SECRETS_MANAGER: "HASHICORP_VAULT",
        SECRETS_HASHICORP_VAULT_URL: `https://ci:${PW}@[bad/?token=${TOKEN}`,
        SECRETS_HASHICORP_VAULT_TOKEN: "hvs.leak-test-token-0001",
      },
      line: /SECRETS_HASHICORP_VAULT_URL="https:\/\/\*\*\*@\[bad\/\?\*\*\*" is not a URL/,
    },
    {
      what: "container credentials URI with a token in the query",
      env: {
        SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
        SECRETS_AWS_USE_ROLE: "true",
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `ftp://169.254.170.23/v1/credentials?auth=${TOKEN}`,
      },
      line:
        /AWS_CONTAINER_CREDENTIALS_FULL_URI="ftp:\/\/169\.254\.170\.23\/v1\/credentials\?\*\*\*"/,
    },
    {
      what: "Key Vault URL over plain http with user info and a signature",
      env: {
        SECRETS_MANAGER: "AZURE_KEY_VAULT",
        SECRETS_AZURE_KEY_VAULT_URL: `http://ci:${PW}@kv.vault.azure.net/?sig=${TOKEN}`,
      },
      line:
        /SECRETS_AZURE_KEY_VAULT_URL="http:\/\/\*\*\*@kv\.vault\.azure\.net\/\?\*\*\*" uses plain http/,
    },
  ];
  for (const row of rows) {
    await using tmp = await tempVault("KEEP: me\n");
    const snap = await snapshot(tmp.vault);
    const result = await runTool([], { ...row.env, SECRETS_VAULT_PATH: tmp.vault });
    await assertCleanFailure(result, snap, { code: 2, line: row.line, secrets: [PW, TOKEN] });
    assert.ok(!result.stderr.includes("ci:"), `${row.what}: no user name either`);
  }
});

/** A CUSTOM script returning `VALUE` under `A`, and printing `lines` (shown at --verbose). */
async function printingScript(dir: string, value: string, prints: string): Promise<string> {
  const script = `${dir}/get_secrets.py`;
  await Deno.writeTextFile(
    script,
    [
      "import json, urllib.parse, binascii",
      `VALUE = ${JSON.stringify(value)}`,
      "def get_secrets():",
      ...prints.split("\n").map((line) => `    ${line}`),
      "    return {'A': VALUE}",
      "",
    ].join("\n"),
  );
  return script;
}

Deno.test("the redactor masks +-for-space, full percent-encoding and hex forms", async () => {
  await using source = await tempDir();
  await using tmp = await tempVault();
  const value = "it's (my) pass word!*";
  const script = await printingScript(
    source.dir,
    value,
    [
      "print('plus: ' + urllib.parse.quote_plus(VALUE))",
      "print('full: ' + urllib.parse.quote(VALUE, safe=''))",
      "print('hex: ' + VALUE.encode().hex())",
      "print('HEX: ' + VALUE.encode().hex().upper())",
    ].join("\n"),
  );
  const result = await runTool(["--verbose"], customEnv(script, tmp.vault));
  assert.equal(result.code, 0, result.stderr);
  for (const label of ["plus", "full", "hex", "HEX"]) {
    assert.match(result.stderr, new RegExp(`custom script: ${label}: \\*\\*\\*`), result.stderr);
  }
  assertNoLeak(result, [value]);
});

Deno.test("the redactor follows JSON nested in JSON text, and warns where it stops", async () => {
  await using source = await tempDir();
  await using tmp = await tempVault();
  const leaf = "deep-leaf-secret-0042";
  let six = leaf;
  for (let i = 0; i < 6; i++) six = JSON.stringify({ k: six });
  const script = await printingScript(
    source.dir,
    six,
    "print('leaf: ' + " + JSON.stringify(leaf) + ")",
  );
  const result = await runTool(["--verbose"], customEnv(script, tmp.vault));
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /custom script: leaf: \*\*\*/);
  assert.ok(!result.stderr.includes(leaf), result.stderr);
  assert.ok(!/nested more than/.test(result.stderr), "no warning for six levels");

  let deep = leaf;
  for (let i = 0; i < 10; i++) deep = JSON.stringify({ k: deep });
  const deeper = await printingScript(source.dir, deep, "pass");
  const warned = await runTool([], customEnv(deeper, tmp.vault));
  assert.equal(warned.code, 0, warned.stderr);
  assert.match(warned.stderr, /warning: a value holds JSON nested more than 8 levels deep/);
});

Deno.test("a URL password that is not valid percent-encoding is still masked, with its query values", async () => {
  await using source = await tempDir();
  await using tmp = await tempVault();
  const password = "Pw%zz-userinfo-5531";
  const token = "query-token-7719";
  const script = await printingScript(
    source.dir,
    "plain-value-0001",
    `print('password: ${password}')\nprint('token: ${token}')`,
  );
  const result = await runTool(["--verbose"], {
    ...customEnv(script, tmp.vault),
    // Read with every other variable, whichever backend runs.
    VAULT_ADDR: `https://ci:${password}@vault.example.com/?token=${token}`,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /custom script: password: \*\*\*/, result.stderr);
  assert.match(result.stderr, /custom script: token: \*\*\*/, result.stderr);
  assertNoLeak(result, [password, token]);
});
