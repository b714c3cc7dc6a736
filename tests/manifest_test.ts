import assert from "node:assert/strict";
import {
  commitLoad,
  type KeyProvenance,
  type Manifest,
  manifestText,
  parseManifest,
  recordOf,
  startMapping,
} from "../lib/vault/manifest.ts";
import { manifestPath } from "../lib/vault/paths.ts";
import { dryRunLines } from "../lib/commands/dry_run.ts";
import { createLogger } from "../lib/output/log.ts";
import { Redactor } from "../lib/output/redact.ts";
import { parseVault } from "../lib/vault/document.ts";
import { openVaultStore } from "../lib/vault/store.ts";
import { customProvider } from "../providers/custom/mod.ts";
import type { ProviderSettings } from "../lib/contract/provider.ts";
import { tempDir } from "./support/temp.ts";
import { testSettings } from "./support/settings.ts";

const SETTINGS: ProviderSettings = testSettings({
  expandJson: true,
  requestTimeoutMs: 1000,
  deadlineInMs: 1000,
});

Deno.test("provenance carries the backend's version and last-changed time to every key of a secret", () => {
  const at = new Date("2026-01-02T03:04:05.000Z");
  const mapping = startMapping(customProvider, SETTINGS, at);
  // In two batches, as the core Worker receives them.
  mapping.add([{
    name: "DB",
    value: '{"USER":"u-1","PASS":"p-1"}',
    version: "v7",
    updated: "2025-12-31T00:00:00Z",
  }]);
  mapping.add([{ name: "PLAIN.KEY", value: "x-1" }]);
  const { count, entries, provenance } = mapping;
  assert.equal(count, 2);
  assert.equal(entries.length, 3);
  assert.deepEqual(provenance.get("DB.PASS"), {
    backend: "CUSTOM",
    source: "DB",
    version: "v7",
    updated: "2025-12-31T00:00:00Z",
    fetched: "2026-01-02T03:04:05.000Z",
  });
  assert.deepEqual(provenance.get("PLAIN.KEY"), {
    backend: "CUSTOM",
    source: "PLAIN.KEY",
    fetched: "2026-01-02T03:04:05.000Z",
  });
  const lines = dryRunLines(
    { added: ["PLAIN.KEY"], changed: ["DB.PASS"], unchanged: [] },
    provenance,
    {
      format: 1,
      vault: "vault.yml",
      encrypted: false,
      vaultSha256: null,
      loaded: "",
      backend: "CUSTOM",
      keys: { "DB.PASS": { ...provenance.get("DB.PASS")!, version: "v6", fetched: "T0" } },
    },
  );
  assert.deepEqual(lines, [
    'add       PLAIN.KEY  from CUSTOM "PLAIN.KEY"',
    'change    DB.PASS  from CUSTOM "DB" version v7 changed 2025-12-31T00:00:00Z; vault has CUSTOM "DB" version v6 changed 2025-12-31T00:00:00Z fetched T0',
  ]);
});

Deno.test("when the vault write fails after the manifest was written, the previous manifest is restored", async () => {
  await using tmp = await tempDir();
  const { dir } = tmp;
  const vault = `${dir}/vault.yml`;
  await Deno.mkdir(vault);
  await Deno.writeTextFile(`${vault}/blocker`, "x");
  const log = createLogger({
    verbosity: "quiet",
    color: false,
    redactor: new Redactor(),
    write: () => {},
  });
  const store = openVaultStore(vault, undefined);
  const doc = await parseVault("A: new-value-1\n", vault);
  const fetched = new Map([["A", { backend: "CUSTOM" as const, source: "A", fetched: "T" }]]);
  const attempt = () =>
    commitLoad({
      store,
      vault: { path: vault, text: null, doc, exists: false, raw: null },
      text: "A: new-value-1\n",
      fetched,
      backend: "CUSTOM",
      log,
    });
  await assert.rejects(attempt(), /cannot write the vault/);
  assert.deepEqual(
    [...Deno.readDirSync(dir)].map((e) => e.name),
    ["vault.yml"],
    "no manifest left",
  );

  const previous = '{"format":1,"keys":{}}\n';
  await Deno.writeTextFile(manifestPath(vault), previous);
  await assert.rejects(attempt(), /cannot write the vault/);
  assert.equal(await Deno.readTextFile(manifestPath(vault)), previous);
});

Deno.test("the manifest is written in pieces as exactly JSON.stringify's text", () => {
  const record = (i: number): KeyProvenance => ({
    backend: "CUSTOM",
    source: `src/${i}`,
    ...(i % 2 ? { version: `v${i}` } : {}),
    fetched: "2026-12-01T00:00:00.000Z",
  });
  const manifestOf = (keys: Record<string, KeyProvenance>): Manifest => ({
    format: 1,
    vault: "vault.yml",
    encrypted: false,
    vaultSha256: null,
    loaded: "2026-12-01T00:00:00.000Z",
    backend: "CUSTOM",
    keys,
  });
  const many: Record<string, KeyProvenance> = {};
  for (let i = 0; i < 3000; i++) many[`NS.KEY${i}`] = record(i);
  for (
    const keys of [
      {},
      { "A.B": record(1) },
      { "2": record(2), 'é."q"': record(3), "1": record(4) },
      JSON.parse(`{"__proto__": ${JSON.stringify(record(5))}, "x\\ny": {}}`),
      many,
    ]
  ) {
    const pieces = [...manifestText(manifestOf(keys))];
    assert.equal(pieces.join(""), `${JSON.stringify(manifestOf(keys), null, 2)}\n`);
    if (keys === many) assert.ok(pieces.length > 3, `${pieces.length} pieces`);
  }
});

Deno.test("recordOf: only a manifest's own records, so `constructor` or `toString` find none", () => {
  const parsed = parseManifest(
    '{"format": 1, "vault": "vault.yml", "keys": {"__proto__": {"backend": "NONE", "source": "s", "fetched": "t"}, "odd": 5}}',
  );
  assert.ok(typeof parsed !== "string");
  for (const key of ["constructor", "toString", "hasOwnProperty", "odd", "absent"]) {
    assert.equal(recordOf(parsed, key), undefined, key);
  }
  assert.deepEqual(recordOf(parsed, "__proto__"), { backend: "NONE", source: "s", fetched: "t" });
});
