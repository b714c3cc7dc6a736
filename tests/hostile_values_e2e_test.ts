/**
 * Hostile values: text that YAML would read as structure, another type, a comment, a tag,
 * an anchor or a document marker round-trips through a real load (over HTTP from the
 * fakes, and from a custom script) as the exact same string.
 */

import assert from "node:assert/strict";
import { readVaultDoc } from "./support/vault.ts";
import { assertNoLeak } from "./support/assertions.ts";
import { runTool } from "./support/run_tool.ts";
import { tempVault } from "./support/temp.ts";
import { startFake } from "./fakes/server.ts";
import { secretsManagerFake } from "./fakes/aws_secrets_manager.ts";
import { testKeys, vaultWithKeys } from "./support/aws.ts";
import { fakeVault } from "./fakes/hashicorp_vault.ts";
import { ROOT_TOKEN, seed, vaultEnv } from "./support/hashicorp_vault.ts";
import { FULL_ACCESS, imdsEnv, startAzure } from "./support/azure.ts";
import { customEnv, customSource } from "./support/custom_source.ts";

/** Every value must come back exactly. */
const HOSTILE: string[] = [
  "key: value",
  ": ",
  "#",
  "# not a comment",
  "value # trailing",
  "---",
  "...",
  "--- !!binary aGVsbG8=",
  "!!binary aGVsbG8=",
  "!!python/object:os.system",
  "&anchor value",
  "*alias",
  "<<: *alias",
  "multi\nline\nvalue",
  "windows\r\nline",
  "  leading spaces",
  "trailing spaces  ",
  "\tleading tab",
  "null",
  "Null",
  "~",
  "",
  "true",
  "no",
  "off",
  "0012",
  "0x1F",
  "1e3",
  ".inf",
  "-.NaN",
  "2026-01-01",
  "12:30:45",
  "trailing newline\n",
  "trailing newlines\n\n",
  "- list item",
  "[1, 2]",
  "'single quoted'",
  '"double quoted"',
  "%YAML 1.2",
  "@at",
  "`backtick`",
  "|",
  ">",
  "?",
  "ünïcödé 名前 🔑 \u00a0nbsp",
  "\u2028line separator",
  "back\\slash",
  // Lone surrogates: JSON escapes carry them, UTF-8 has no bytes for them.
  "lone \ud800 high surrogate",
  "lone \udfff low surrogate",
];

/** Values that are distinctive enough to scan output for. */
const SCANNED = HOSTILE.filter((v) => v.length >= 8 && !/^\s|\s$/.test(v));

function check(doc: Record<string, unknown>, lookup: (i: number) => unknown): void {
  HOSTILE.forEach((value, i) => {
    assert.equal(lookup(i), value, `value ${i} ${JSON.stringify(value)}`);
  });
  assert.ok(doc);
}

Deno.test("hostile values round-trip exactly: AWS Secrets Manager over HTTP", async () => {
  const sm = secretsManagerFake(
    HOSTILE.map((value, i) => ({ name: `h/v${String(i).padStart(2, "0")}`, string: value })),
    testKeys(),
  );
  const server = startFake(sm.handler);
  try {
    await using tmp = await tempVault(vaultWithKeys());
    const { vault } = tmp;
    const result = await runTool([], {
      SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      SECRETS_VAULT_PATH: vault,
    });
    assert.equal(result.code, 0, result.stderr);
    const doc = await readVaultDoc(vault) as { h: Record<string, unknown> };
    check(doc, (i) => doc.h[`v${String(i).padStart(2, "0")}`]);
    assertNoLeak(result, SCANNED);
  } finally {
    await server.close();
  }
});

Deno.test("hostile values round-trip exactly: HashiCorp Vault KV data and Azure Key Vault", async () => {
  const data = seed();
  data.namespaces[""].secret.secrets = {
    hostile: { data: Object.fromEntries(HOSTILE.map((value, i) => [`V${i}`, value])) },
  };
  const server = startFake(fakeVault(data).handler);
  const world = startAzure({}, {
    secrets: HOSTILE.map((value, i) => ({ name: `H-V${i}`, value })),
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault();
    const { vault } = tmp;
    let result = await runTool(
      [],
      vaultEnv(server.url, vault, { SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN }),
    );
    assert.equal(result.code, 0, result.stderr);
    result = await runTool([], imdsEnv(world, vault));
    assert.equal(result.code, 0, result.stderr);
    const doc = await readVaultDoc(vault) as Record<string, Record<string, unknown>>;
    check(doc, (i) => doc.hostile[`V${i}`]);
    check(doc, (i) => doc.H[`V${i}`]);
    assertNoLeak(result, SCANNED);
  } finally {
    await server.close();
    await world.close();
  }
});

Deno.test("hostile values round-trip exactly: custom script, and `get` prints the exact bytes", async () => {
  await using source = await customSource(
    Object.fromEntries(HOSTILE.map((value, i) => [`H.V${i}`, value])),
  );
  await using tmp = await tempVault();
  const { vault } = tmp;
  const result = await runTool([], customEnv(source.script, vault));
  assert.equal(result.code, 0, result.stderr);
  const doc = await readVaultDoc(vault) as { H: Record<string, unknown> };
  check(doc, (i) => doc.H[`V${i}`]);
  assertNoLeak(result, SCANNED);
  for (const i of [13, 14, 15, 18, 19, 25, 32, 33]) {
    const got = await runTool(["get", `H.V${i}`], { SECRETS_VAULT_PATH: vault });
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, HOSTILE[i], `get H.V${i}`);
  }
});
