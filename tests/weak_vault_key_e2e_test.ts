/**
 * An obviously weak `DATAOPS_VAULT_KEY` (long enough, but one repeated character, a short
 * pattern repeated, or a run like `0123456789abcdef`) is refused before anything is read,
 * fetched or written: exit 2, one line, the key never quoted.
 */

import { assertFailureTable } from "./support/failure.ts";

const WEAK = ["aaaaaaaaaaaaaaaa", "abcdefghabcdefghabcdefgh", "0123456789abcdef"];

Deno.test("weak vault keys: exit 2 before any fetch, the key never printed", async () => {
  await assertFailureTable([
    ...WEAK.map((key) => ({
      what: `key ${key.slice(0, 4)}...`,
      env: { SECRETS_MANAGER: "NONE", DATAOPS_VAULT_KEY: key },
      code: 2,
      line: /DATAOPS_VAULT_KEY is too weak: .*; use a random key \(openssl rand -hex 32\)/,
      secrets: [key],
    })),
    {
      what: "weak key, an existing plain vault left as it was",
      env: { SECRETS_MANAGER: "NONE", DATAOPS_VAULT_KEY: WEAK[0] },
      vault: "KEEP: me\n",
      code: 2,
      line: /DATAOPS_VAULT_KEY is too weak: it has only 1 distinct characters/,
      secrets: [WEAK[0]],
    },
  ]);
});
