/**
 * Leaks through the edges of messages: a backend's error text is redacted before it is
 * cut (a credential cut in half no longer matches the redactor), and configured URLs are
 * quoted without their userinfo or query string.
 */

import assert from "node:assert/strict";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { runTool } from "./support/run_tool.ts";
import { tempVault } from "./support/temp.ts";

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
