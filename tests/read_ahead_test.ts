/**
 * The vault read while the backend fetches: a load keeps that parse only when the file is
 * byte for byte the one it came from, and otherwise merges into what is on disk under the
 * lock (another run, or a person, may have written the vault in between).
 */

import assert from "node:assert/strict";
import { resolveConfig } from "../lib/cli/config.ts";
import { allParams } from "../lib/cli/params.ts";
import { mergeSecrets } from "../lib/commands/load.ts";
import { createLogger } from "../lib/output/log.ts";
import { Redactor } from "../lib/output/redact.ts";
import { openVaultStore } from "../lib/vault/store.ts";
import { encryptedPath } from "../lib/vault/paths.ts";
import type { MappedSecrets } from "../lib/vault/manifest.ts";
import { kindOf } from "./support/assertions.ts";
import { tempVault } from "./support/temp.ts";

const quiet = createLogger({
  verbosity: "quiet",
  color: false,
  redactor: new Redactor(),
  write: () => {},
});

function fetchedOne(): () => MappedSecrets {
  const entry = { path: ["APP", "NEW"], value: "fetched-value-1", source: "app/new" };
  return () => ({
    count: 1,
    entries: [entry],
    provenance: new Map([["APP.NEW", { backend: "CUSTOM", source: "app/new", fetched: "T" }]]),
  });
}

Deno.test("readAgain: the earlier read while the file is unchanged, a new one once it changed", async () => {
  await using tmp = await tempVault("A: one\n");
  const store = openVaultStore(tmp.vault, undefined);
  const earlier = await store.read();
  assert.equal(await store.readAgain(earlier), earlier);
  await Deno.writeTextFile(tmp.vault, "A: two\n");
  const again = await store.readAgain(earlier);
  assert.notEqual(again, earlier);
  assert.equal(again.text, "A: two\n");
  assert.deepEqual(again.doc.tree(), { A: "two" });
  await Deno.remove(tmp.vault);
  const gone = await store.readAgain(again);
  assert.equal(gone.text, null);
  assert.equal(gone.exists, false);
  // An encrypted vault that appeared since is refused, as a first read refuses it.
  await Deno.writeTextFile(encryptedPath(tmp.vault), "eyJ...");
  await assert.rejects(store.readAgain(gone), kindOf("config"));
});

Deno.test("a load merges into the vault on disk when it changed after the read ahead", async () => {
  await using tmp = await tempVault("APP:\n  OLD: before\n");
  const config = await resolveConfig(
    [],
    { SECRETS_MANAGER: "CUSTOM", SECRETS_VAULT_PATH: tmp.vault },
    allParams(),
  );
  const ahead = openVaultStore(tmp.vault, undefined).read();
  await ahead;
  // Another run's write, after the read ahead and before this load takes the lock.
  await Deno.writeTextFile(tmp.vault, "APP:\n  OLD: changed\n  OTHER: written-meanwhile\n");
  await mergeSecrets(config, fetchedOne(), quiet, ahead);
  assert.equal(
    await Deno.readTextFile(tmp.vault),
    "APP:\n  OLD: changed\n  OTHER: written-meanwhile\n  NEW: fetched-value-1\n",
  );
});

Deno.test("a load keeps the read ahead of an unchanged vault, and one that failed is made again", async () => {
  await using tmp = await tempVault("APP:\n  OLD: before\n");
  const config = await resolveConfig(
    [],
    { SECRETS_MANAGER: "CUSTOM", SECRETS_VAULT_PATH: tmp.vault },
    allParams(),
  );
  await mergeSecrets(config, fetchedOne(), quiet, openVaultStore(tmp.vault, undefined).read());
  assert.equal(
    await Deno.readTextFile(tmp.vault),
    "APP:\n  OLD: before\n  NEW: fetched-value-1\n",
  );
  // A read ahead that failed (here: a vault that was not YAML then) is no answer: the
  // load reads the vault again and merges into what it finds.
  await Deno.writeTextFile(tmp.vault, "APP: [unclosed\n");
  const failed = openVaultStore(tmp.vault, undefined).read();
  await assert.rejects(failed);
  await Deno.writeTextFile(tmp.vault, "APP:\n  OLD: fixed\n");
  await mergeSecrets(config, fetchedOne(), quiet, failed);
  assert.equal(await Deno.readTextFile(tmp.vault), "APP:\n  OLD: fixed\n  NEW: fetched-value-1\n");
});
