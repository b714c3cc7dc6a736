/**
 * End-to-end tests of a hostile or broken backend: `deno run -P main.ts` against fakes that
 * list path-traversal keys, redirect, answer without end, page in circles, nest JSON
 * hundreds of levels deep or stay sealed. Each run must end within bounded time with the
 * documented exit code, one clear line, no leak, and the vault byte-for-byte unchanged.
 */

import assert from "node:assert/strict";
import {
  ALL_VALUES,
  CREDENTIALS,
  ROOT_TOKEN,
  seed,
  startVault,
  VALUES,
  vaultEnv,
} from "./support/hashicorp_vault.ts";
import { assertCleanFailure, type ExpectedFailure, snapshot } from "./support/failure.ts";
import { assertNoLeak } from "./support/assertions.ts";
import { tempVault } from "./support/temp.ts";
import { readVaultDoc } from "./support/vault.ts";
import { runTool } from "./support/run_tool.ts";
import type { FakeVaultData, FakeVaultOptions } from "./fakes/hashicorp_vault.ts";
import type { FakeHandler } from "./fakes/server.ts";
import { type FakeSecret, secretsManagerFake } from "./fakes/aws_secrets_manager.ts";
import { type FakeParameter, ssmFake } from "./fakes/aws_ssm.ts";
import { SECRET_KEY, testKeys, vaultWithKeys, withFakes } from "./support/aws.ts";
import { FULL_ACCESS, imdsEnv, manySecrets as azureSecrets, startAzure } from "./support/azure.ts";

const LEAKABLE = [...ALL_VALUES, ...CREDENTIALS];
const EXISTING = "# kept\nEXISTING:\n  KEY: keep-me\n";

/**
 * Run the tool once against a fake Vault with `options`; the vault starts as EXISTING.
 * With `expected`, assert the run failed cleanly (before the temporary vault goes away).
 */
async function vaultRun(
  options: FakeVaultOptions,
  env: Record<string, string> = {},
  data: FakeVaultData = seed(),
  expected?: Omit<ExpectedFailure, "secrets">,
) {
  const running = startVault(data, options);
  await using _vault = running;
  await using tmp = await tempVault(EXISTING);
  const snap = await snapshot(tmp.vault);
  const result = await runTool(
    [],
    vaultEnv(running.server.url, tmp.vault, { SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN, ...env }),
  );
  if (expected) await assertCleanFailure(result, snap, { secrets: LEAKABLE, ...expected });
  return { result, log: [...running.server.log], doc: await readVaultDoc(tmp.vault) };
}

for (
  const key of ["../../../sys/raw/", "../../sys/", "./x", "a//", "/sys/raw/", "..", "a/./b"]
) {
  Deno.test(`Vault LIST key ${JSON.stringify(key)} is refused before any request leaves the folder`, async () => {
    const { log } = await vaultRun(
      {
        listKeys: (mount, folder) => mount === "secret" && folder === "app" ? [key] : undefined,
      },
      { SECRETS_SELECTION: "secret/app/" },
      seed(),
      {
        code: 4,
        line:
          /HashiCorp Vault listed the key .* in folder secret\/app\/, which is not a plain name/,
      },
    );
    const outside = log.filter((line) =>
      !line.startsWith("LIST /v1/secret/metadata/app/") &&
      !line.startsWith("GET /v1/sys/internal/ui/mounts/secret/app")
    );
    assert.deepEqual(outside, [], "no request outside the selected folder");
  });
}

Deno.test("Vault redirect to a host outside the sandbox: exit 4 naming the host, not a crash", async () => {
  await vaultRun(
    {
      redirect: { status: 307, location: "http://vault-active.example:8200/v1/secret/metadata/" },
    },
    {},
    seed(),
    {
      code: 4,
      line:
        /HashiCorp Vault LIST secret\/metadata\/ answered a redirect \(HTTP 307\) to host vault-active\.example:8200; the tool never follows redirects/,
    },
  );
});

Deno.test("Vault redirect to an allowed host: not followed, so the token goes nowhere else", async () => {
  const running = startVault(seed(), {});
  await using _vault = running;
  // The same server, another path: following it would send X-Vault-Token to sys/raw.
  running.vault.options.redirect = {
    status: 307,
    location: `${running.server.url}/v1/sys/raw/secret`,
  };
  await using tmp = await tempVault(EXISTING);
  const snap = await snapshot(tmp.vault);
  const result = await runTool(
    [],
    vaultEnv(running.server.url, tmp.vault, { SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN }),
  );
  await assertCleanFailure(result, snap, {
    code: 4,
    line: new RegExp(`redirect \\(HTTP 307\\) to host 127\\.0\\.0\\.1:${running.server.port};`),
    secrets: LEAKABLE,
  });
  assert.ok(!running.server.log.some((line) => line.includes("/sys/raw")), "not followed");
});

Deno.test("Vault listing 20,000 folders at every level: exit 4 at the entry cap, bounded time and memory", async () => {
  const folders = Array.from({ length: 20_000 }, (_, i) => `f${String(i).padStart(5, "0")}/`);
  const running = startVault(seed(), {
    listKeys: (mount) => mount === "secret" ? folders : undefined,
  });
  await using _vault = running;
  await using tmp = await tempVault(EXISTING);
  const snap = await snapshot(tmp.vault);
  const result = await runTool(
    [],
    vaultEnv(running.server.url, tmp.vault, {
      SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
      SECRETS_TIMEOUT: "120",
    }),
    { measure: true },
  );
  await assertCleanFailure(result, snap, {
    code: 4,
    line: /HashiCorp Vault listed more than 1,000,000 entries .*select narrower folders/,
    secrets: LEAKABLE,
  });
  const lists = running.server.log.filter((line) => line.startsWith("LIST ")).length;
  console.log(
    `20,000 folders per level: ${lists} LISTs, ${Math.round(result.wallMs)} ms, ${
      Math.round(result.rssMb)
    } MB peak RSS`,
  );
  // 1,000,000 entries are 50 answers of 20,000, plus the lists in flight (a few times the
  // concurrency); spawning every folder's walk at once would start 20,000.
  assert.ok(lists < 300, `lists stop at the cap (${lists})`);
  assert.ok(result.wallMs < 60_000, `bounded time (${result.wallMs} ms)`);
  if (Number.isFinite(result.rssMb)) {
    assert.ok(result.rssMb < 600, `bounded memory (${result.rssMb} MB)`);
  }
});

Deno.test("Vault secret of 300 MB: exit 4 at the 16 MiB answer limit, bounded time", async () => {
  const { result } = await vaultRun(
    { hugeReadBytes: 300 * 1024 * 1024 },
    { SECRETS_SELECTION: "secret/app/config" },
    seed(),
    {
      code: 4,
      line: /HashiCorp Vault GET secret\/data\/app\/config: the answer is larger than 16 MiB/,
    },
  );
  assert.ok(result.wallMs < 30_000, `bounded time (${result.wallMs} ms)`);
});

Deno.test("Vault sealed for its first answers (an HA failover) is retried and the load succeeds", async () => {
  const { result, doc } = await vaultRun({ sealedFirst: 3 }, { SECRETS_SELECTION: "secret/app" });
  assert.equal(result.code, 0, result.stderr);
  assertNoLeak(result, LEAKABLE);
  assert.deepEqual(doc, {
    EXISTING: { KEY: "keep-me" },
    app: { config: { JSON: VALUES.appConfig, API_KEY: VALUES.apiKey } },
  });
});

Deno.test("Vault data nested 700 levels deep: exit 5 naming the secret, not a stack overflow", async () => {
  const data = seed();
  let deep: Record<string, unknown> = { LEAF: "x" };
  for (let i = 0; i < 700; i++) deep = { N: deep };
  data.namespaces[""].secret.secrets["deep/nested"] = { data: { ROOT: deep } };
  await vaultRun({}, { SECRETS_SELECTION: "secret/deep/" }, data, {
    code: 5,
    line: /secret "secret\/deep\/nested" nests deeper than 64 levels/,
  });
});

Deno.test("Vault data nested 5,000 levels deep: exit 5 before the value crosses a Worker (a clone overflows there)", async () => {
  const data = seed();
  let deep: Record<string, unknown> = { LEAF: "x" };
  for (let i = 0; i < 5_000; i++) deep = { N: deep };
  data.namespaces[""].secret.secrets["deep/nested"] = { data: { ROOT: deep } };
  await vaultRun({}, { SECRETS_SELECTION: "secret/deep/" }, data, {
    code: 5,
    line: /secret "secret\/deep\/nested" nests deeper than 64 levels/,
  });
});

Deno.test("Vault JSON string nested 700 levels under SECRETS_EXPAND_JSON: exit 5 naming the secret", async () => {
  const data = seed();
  const text = '{"a":'.repeat(700) + '"x"' + "}".repeat(700);
  data.namespaces[""].secret.secrets["deep/json"] = { data: { CONFIG: text } };
  await vaultRun({}, { SECRETS_SELECTION: "secret/deep/json", SECRETS_EXPAND_JSON: "true" }, data, {
    code: 5,
    line: /secret "secret\/deep\/json" nests deeper than 64 levels/,
  });
});

/** The seed plus mounts whose paths contain slashes: `team/kv` (v2) and `team` (v2). */
function slashedMounts(): FakeVaultData {
  const data = seed();
  data.namespaces[""]["team/kv"] = {
    version: 2,
    secrets: { "app/db": { data: { PASSWORD: VALUES.transformPassword } } },
  };
  data.namespaces[""]["team"] = {
    version: 2,
    secrets: { "kv/app/db": { data: { PASSWORD: VALUES.ingestPassword } } },
  };
  data.policies.reader["team/kv/data/*"] = ["read"];
  data.policies.reader["team/kv/metadata/*"] = ["list"];
  return data;
}

Deno.test("Vault mount with a slash (team/kv): resolved with sys/internal/ui/mounts, longest match", async () => {
  const { result, doc, log } = await vaultRun(
    {},
    { SECRETS_SELECTION: "team/kv/app" },
    slashedMounts(),
  );
  assert.equal(result.code, 0, result.stderr);
  assertNoLeak(result, LEAKABLE);
  // The secret team/kv/app/db maps below its mount, team/kv, not below "team".
  assert.deepEqual(doc, {
    EXISTING: { KEY: "keep-me" },
    app: { db: { PASSWORD: VALUES.transformPassword } },
  });
  assert.ok(log.includes("GET /v1/sys/internal/ui/mounts/team/kv/app"), log.join("\n"));
  assert.ok(log.includes("LIST /v1/team/kv/metadata/app/"), log.join("\n"));
  assert.ok(!log.some((line) => line.startsWith("LIST /v1/team/metadata")), "not the team mount");
});

Deno.test("Vault mount with a slash in a namespace: the namespace's own mounts answer", async () => {
  const data = slashedMounts();
  data.namespaces["team-a"]["ops/kv"] = {
    version: 2,
    secrets: { "svc/api": { data: { TOKEN: VALUES.teamPassword } } },
  };
  data.policies.reader["ops/kv/data/*"] = ["read"];
  data.policies.reader["ops/kv/metadata/*"] = ["list"];
  data.tokens![ROOT_TOKEN].namespace = "team-a";
  const { result, doc } = await vaultRun(
    {},
    { SECRETS_SELECTION: "ops/kv/svc", SECRETS_HASHICORP_VAULT_NAMESPACE: "team-a" },
    data,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(doc, {
    EXISTING: { KEY: "keep-me" },
    svc: { api: { TOKEN: VALUES.teamPassword } },
  });
});

Deno.test("Vault mounts lookup denied (403): first segment taken as the mount, and the error says so", async () => {
  const data = slashedMounts();
  delete data.namespaces[""]["team"];
  // A policy granting nothing below team/kv: Vault answers the lookup with 403.
  delete data.policies.reader["team/kv/data/*"];
  delete data.policies.reader["team/kv/metadata/*"];
  await vaultRun({}, { SECRETS_SELECTION: "team/kv/app" }, data, {
    code: 2,
    line:
      /no secrets engine is mounted at "team\/".*the mount was taken to be the first segment, because GET sys\/internal\/ui\/mounts\/team\/kv\/app answered HTTP 403/,
  });
});

const AWS_BASE = { SECRETS_MANAGER: "AWS_SECRETS_MANAGER" };

/** Run the tool against one started fake; with `expected`, assert a clean failure. */
async function fakeRun(
  handler: FakeHandler,
  env: (url: string, vault: string) => Record<string, string>,
  expected: ExpectedFailure,
  vaultText = vaultWithKeys("EXISTING: keep-me\n"),
) {
  return await withFakes([handler], async ([fake]) => {
    await using tmp = await tempVault(vaultText);
    const snap = await snapshot(tmp.vault);
    const result = await runTool([], env(fake.url, tmp.vault));
    await assertCleanFailure(result, snap, { ...expected, secrets: [SECRET_KEY] });
    return { result, fake };
  });
}

function manyAws(count: number): FakeSecret[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `app/s${String(i).padStart(3, "0")}`,
    string: `value-${i}-${crypto.randomUUID()}`,
  }));
}

Deno.test("Secrets Manager ListSecrets whose NextToken repeats: exit 4 at once, not at SECRETS_TIMEOUT", async () => {
  const sm = secretsManagerFake(manyAws(30), testKeys(), { pageSize: 10, repeatPaging: true });
  const { result } = await fakeRun(sm.handler, (url, vault) => ({
    ...AWS_BASE,
    SECRETS_VAULT_PATH: vault,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
    SECRETS_TIMEOUT: "60",
  }), {
    code: 4,
    line: /AWS Secrets Manager ListSecrets: the paging repeats \(page 2 returned a NextToken/,
  });
  assert.ok(result.wallMs < 20_000, `at once (${result.wallMs} ms)`);
  assert.equal(
    sm.calls.get("ListSecrets"),
    3,
    "the repeat on the second ascending page ends both chains",
  );
});

function manySsm(count: number): FakeParameter[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `/app/p${String(i).padStart(3, "0")}`,
    type: "SecureString",
    value: `ssm-value-${i}-${crypto.randomUUID()}`,
  }));
}

for (
  const [operation, selection] of [["GetParametersByPath", "/app"], [
    "DescribeParameters",
    "",
  ]] as const
) {
  Deno.test(`SSM ${operation} whose NextToken repeats: exit 4 at once, not at SECRETS_TIMEOUT`, async () => {
    // Paths are read with GetParametersByPath where DescribeParameters is denied.
    const ssm = ssmFake(manySsm(120), testKeys(), {
      repeatPaging: true,
      deny: selection ? ["DescribeParameters"] : [],
    });
    const { result } = await fakeRun(ssm.handler, (url, vault) => ({
      SECRETS_MANAGER: "AWS_PARAMETER_STORE",
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SSM: url,
      SECRETS_TIMEOUT: "60",
      ...(selection ? { SECRETS_SELECTION: selection } : {}),
    }), {
      code: 4,
      line: new RegExp(`AWS SSM ${operation}.*: the paging repeats \\(page 2 returned a NextToken`),
    });
    assert.ok(result.wallMs < 20_000, `at once (${result.wallMs} ms)`);
    assert.equal(ssm.calls.get(operation), 2);
  });
}

Deno.test("Key Vault list whose nextLink repeats: exit 4 at once, not at SECRETS_TIMEOUT", async () => {
  const world = startAzure({}, {
    secrets: azureSecrets(60),
    access: FULL_ACCESS,
  }, { repeatNextLink: true });
  await using _world = world;
  await using tmp = await tempVault(EXISTING);
  const snap = await snapshot(tmp.vault);
  const result = await runTool([], { ...imdsEnv(world, tmp.vault), SECRETS_TIMEOUT: "60" });
  await assertCleanFailure(result, snap, {
    code: 4,
    line:
      /Azure Key Vault 127\.0\.0\.1:\d+ list secrets: the paging repeats \(page 2 returned a nextLink/,
    secrets: [...world.identity.seen],
  });
  assert.ok(result.wallMs < 20_000, `at once (${result.wallMs} ms)`);
  assert.equal(world.kv.counters.listPages, 2);
});

Deno.test("Secrets Manager redirect: exit 4 naming the target host, the signed request not re-sent", async () => {
  const sm = secretsManagerFake(manyAws(3), testKeys(), {
    redirect: "http://169.254.169.254/latest/meta-data/",
  });
  await fakeRun(sm.handler, (url, vault) => ({
    ...AWS_BASE,
    SECRETS_VAULT_PATH: vault,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
  }), {
    code: 4,
    line:
      /AWS Secrets Manager ListSecrets answered a redirect \(HTTP 307\) to host 169\.254\.169\.254;/,
  });
});

Deno.test("Key Vault redirect: exit 4 naming the target host, the bearer token not re-sent", async () => {
  const world = startAzure({}, { secrets: azureSecrets(3), access: FULL_ACCESS }, {
    redirect: "https://attacker.example/secrets",
  });
  await using _world = world;
  await using tmp = await tempVault(EXISTING);
  const snap = await snapshot(tmp.vault);
  const result = await runTool([], imdsEnv(world, tmp.vault));
  await assertCleanFailure(result, snap, {
    code: 4,
    line:
      /Azure Key Vault list secrets \(page 1\) answered a redirect \(HTTP 307\) to host attacker\.example;/,
    secrets: [...world.identity.seen],
  });
});

Deno.test("Secrets Manager JSON nested 700 levels: exit 5 naming the secret, with and without SECRETS_EXPAND_JSON", async () => {
  const text = '{"a":'.repeat(700) + '"x"' + "}".repeat(700);
  for (const expand of ["true", "false"]) {
    const sm = secretsManagerFake([{ name: "deep/json", string: text }], testKeys());
    await fakeRun(sm.handler, (url, vault) => ({
      ...AWS_BASE,
      SECRETS_VAULT_PATH: vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
      SECRETS_EXPAND_JSON: expand,
    }), { code: 5, line: /secret "deep\/json" nests deeper than 64 levels/ });
  }
});

Deno.test("Secrets Manager listing without end: exit 4 past 1,000,000 listed entries, bounded time", async () => {
  const sm = secretsManagerFake([], testKeys(), { endlessPages: 100_000 });
  const { result } = await fakeRun(sm.handler, (url, vault) => ({
    ...AWS_BASE,
    SECRETS_VAULT_PATH: vault,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
    // Nothing is kept, so only the listing runs.
    SECRETS_SELECTION_FILTER: "no-such-name",
    SECRETS_TIMEOUT: "120",
  }), {
    code: 4,
    line: /AWS Secrets Manager ListSecrets: the listing returned more than 1,000,000 entries/,
  });
  console.log(
    `endless ListSecrets: ${sm.calls.get("ListSecrets")} pages, ${Math.round(result.wallMs)} ms`,
  );
  assert.ok((sm.calls.get("ListSecrets") ?? 0) <= 12, `stops at the cap`);
});
