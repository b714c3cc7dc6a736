/**
 * End-to-end tests of the HashiCorp Vault backend's KV side: `deno run -P main.ts` against
 * the fake Vault, checking the vault file, the requests made and that nothing leaked.
 */

import assert from "node:assert/strict";
import { readVaultDoc } from "./support/vault.ts";
import {
  ALL_VALUES,
  CREDENTIALS,
  LIST_ONLY_TOKEN,
  ROOT_TOKEN,
  seed,
  startVault,
  TEAM_TOKEN,
  VALUES,
  vaultScenario,
} from "./support/hashicorp_vault.ts";
import { readBytes } from "./support/temp.ts";

const LEAKABLE = [...ALL_VALUES, ...CREDENTIALS];
const EXISTING = "# kept comment\nEXISTING:\n  KEY: keep-me\n";
const ROOT = { SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN };
const TRANSFORM = {
  SNOWFLAKE: { TRANSFORM: { USERNAME: VALUES.transformUser, PASSWORD: VALUES.transformPassword } },
};

Deno.test("KV v2: the whole secret mount by default, nested folders, deleted and destroyed versions skipped", async () => {
  await using hv = startVault(seed(), { requireRequestHeader: true });
  const { server, vault } = hv;
  await using run = await vaultScenario(hv, EXISTING);
  const result = await run.loads(ROOT, LEAKABLE);
  assert.deepEqual(await readVaultDoc(run.vault), {
    EXISTING: { KEY: "keep-me" },
    SNOWFLAKE: {
      TRANSFORM: { USERNAME: VALUES.transformUser, PASSWORD: VALUES.transformPassword },
      INGEST: { deep: { CREDS: { PASSWORD: VALUES.ingestPassword } } },
    },
    app: { config: { JSON: VALUES.appConfig, API_KEY: VALUES.apiKey } },
  });
  assert.ok((await Deno.readTextFile(run.vault)).startsWith("# kept comment"));
  assert.match(
    result.stderr,
    /warning: skipped secret\/old\/deleted: its latest version \(2\) was deleted at 2026-02-03T04:05:06Z/,
  );
  assert.match(
    result.stderr,
    /warning: skipped secret\/old\/destroyed: its latest version \(5\) is destroyed/,
  );
  // Listing uses LIST on metadata/, reads use GET on data/, all with the token.
  assert.ok(server.log.includes("LIST /v1/secret/metadata/"));
  assert.ok(server.log.includes("LIST /v1/secret/metadata/SNOWFLAKE/INGEST/deep/"));
  assert.ok(server.log.includes("GET /v1/secret/data/SNOWFLAKE/INGEST/deep/CREDS"));
  assert.ok(!server.log.some((line) => line.includes("/v1/other/")), "only the secret mount");
  // A token the user supplied is never revoked, and no login happened.
  assert.deepEqual(vault.counters.revoked, []);
  assert.deepEqual(vault.counters.logins, { jwt: 0, userpass: 0 });
  assert.deepEqual([...vault.counters.namespaces], [""]);
});

Deno.test("KV v1: nested folders under a v1 mount with SECRETS_HASHICORP_VAULT_KV_VERSION=1", async () => {
  await using hv = startVault(seed());
  await using run = await vaultScenario(hv);
  await run.loads({
    VAULT_TOKEN: ROOT_TOKEN,
    SECRETS_HASHICORP_VAULT_KV_VERSION: "1",
    SECRETS_SELECTION: "kv1",
  }, LEAKABLE);
  assert.deepEqual(await readVaultDoc(run.vault), {
    legacy: {
      db: { PASSWORD: VALUES.v1Password },
      nested: { svc: { api: { TOKEN: VALUES.v1Token } } },
    },
  });
  const { log } = hv.server;
  assert.ok(log.includes("LIST /v1/kv1/legacy/nested/"));
  assert.ok(log.includes("GET /v1/kv1/legacy/nested/svc/api"));
  assert.ok(!log.some((line) => line.includes("/metadata/") || line.includes("/data/")));
});

Deno.test("several selectors: a folder, a single secret and another mount; strip prefix and JSON expansion", async () => {
  await using hv = startVault(seed());
  await using run = await vaultScenario(hv);
  await run.loads({
    ...ROOT,
    SECRETS_SELECTION: "secret/SNOWFLAKE/INGEST/, secret/app/config,other/team",
    SECRETS_STRIP_PREFIX: "app/",
    SECRETS_EXPAND_JSON: "true",
  }, LEAKABLE);
  assert.deepEqual(await readVaultDoc(run.vault), {
    SNOWFLAKE: { INGEST: { deep: { CREDS: { PASSWORD: VALUES.ingestPassword } } } },
    config: {
      JSON: { host: "db.internal", port: 5432, secret: VALUES.appConfigSecret },
      API_KEY: VALUES.apiKey,
    },
    team: { x: { VAL: VALUES.otherMount } },
  });
  const { log } = hv.server;
  assert.ok(!log.some((line) => line.includes("TRANSFORM")), "TRANSFORM not selected");
  // The single secret was read once, not once per probe.
  assert.equal(log.filter((line) => line === "GET /v1/secret/data/app/config").length, 1);
});

Deno.test("SECRETS_SELECTION_FILTER keeps only matching secrets and skips reading the rest", async () => {
  await using hv = startVault(seed());
  await using run = await vaultScenario(hv);
  await run.loads({ ...ROOT, SECRETS_SELECTION_FILTER: "TRANSFORM" }, LEAKABLE);
  assert.deepEqual(await readVaultDoc(run.vault), TRANSFORM);
  assert.ok(!hv.server.log.includes("GET /v1/secret/data/app/config"));
});

Deno.test("namespace: X-Vault-Namespace on every call; secrets exist only in their namespace", async () => {
  await using hv = startVault(seed());
  await using run = await vaultScenario(hv, EXISTING);
  await run.loads({
    SECRETS_HASHICORP_VAULT_TOKEN: TEAM_TOKEN,
    SECRETS_HASHICORP_VAULT_NAMESPACE: "team-a",
  }, LEAKABLE);
  assert.deepEqual(await readVaultDoc(run.vault), {
    EXISTING: { KEY: "keep-me" },
    SNOWFLAKE: { TEAM: { PASSWORD: VALUES.teamPassword } },
  });
  assert.deepEqual([...hv.vault.counters.namespaces], ["team-a"]);

  // The same token without the namespace is unknown in the root namespace: denied.
  await run.fails({ SECRETS_HASHICORP_VAULT_TOKEN: TEAM_TOKEN }, {
    code: 3,
    line: /denied "list" on secret\/metadata\/ .*permission denied/,
    secrets: LEAKABLE,
  });

  // A root token in namespace team-a sees team-a's secrets only when the header is sent
  // (VAULT_NAMESPACE fallback); the root namespace has no SNOWFLAKE/TEAM.
  await using fresh = await vaultScenario(hv);
  await fresh.fails({ ...ROOT, SECRETS_SELECTION: "secret/SNOWFLAKE/TEAM" }, {
    code: 2,
    line: /secret\/SNOWFLAKE\/TEAM" matches no secret or folder/,
    secrets: LEAKABLE,
  });
  assert.equal(await readBytes(fresh.vault), null);
});

Deno.test("listing and reads run concurrently, bounded by SECRETS_HASHICORP_VAULT_CONCURRENCY", async () => {
  const data = seed();
  const secrets: Record<string, { data: Record<string, unknown> }> = {};
  const values: string[] = [];
  for (let f = 0; f < 6; f++) {
    for (let i = 0; i < 8; i++) {
      const value = `bulk-value-${f}-${i}-${crypto.randomUUID()}`;
      values.push(value);
      secrets[`bulk/f${f}/s${i}`] = { data: { V: value } };
    }
  }
  data.namespaces[""].secret.secrets = secrets;
  await using hv = startVault(data, {}, { latencyMs: 25 });
  const { server } = hv;
  await using run = await vaultScenario(hv);
  const started = performance.now();
  await run.loads({ ...ROOT, SECRETS_HASHICORP_VAULT_CONCURRENCY: "5" }, [
    ...values,
    ...CREDENTIALS,
  ]);
  const elapsed = performance.now() - started;
  const doc = await readVaultDoc(run.vault) as {
    bulk: Record<string, Record<string, { V: string }>>;
  };
  assert.equal(Object.keys(doc.bulk).length, 6);
  assert.equal(doc.bulk.f3.s7.V, secrets["bulk/f3/s7"].data.V);
  assert.equal(server.peakConcurrency, 5, `peak ${server.peakConcurrency}`);
  // 56 requests at 25 ms each would take 1.4 s serially.
  console.log(
    `    ${server.requests} requests, peak ${server.peakConcurrency}, ${Math.round(elapsed)} ms`,
  );
});

Deno.test("GET ?list=true is answered like LIST by the fake", async () => {
  await using hv = startVault(seed());
  const { url } = hv.server;
  const response = await fetch(`${url}/v1/secret/metadata/SNOWFLAKE?list=true`, {
    headers: { "X-Vault-Token": ROOT_TOKEN },
  });
  assert.equal(response.status, 200);
  assert.deepEqual((await response.json()).data.keys, ["INGEST/", "TRANSFORM"]);
  const missing = await fetch(`${url}/v1/secret/metadata/nothing/here/`, {
    method: "LIST",
    headers: { "X-Vault-Token": ROOT_TOKEN },
  });
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { errors: [] });
  const noToken = await fetch(`${url}/v1/secret/data/SNOWFLAKE/TRANSFORM`);
  assert.equal(noToken.status, 403);
  assert.deepEqual(await noToken.json(), { errors: ["permission denied"] });
});

Deno.test("a wrong KV version names the version the mount really is", async () => {
  await using hv = startVault(seed());
  for (const [selection, configured, actual] of [["secret", "1", "2"], ["kv1/legacy", "2", "1"]]) {
    await using run = await vaultScenario(hv, EXISTING);
    const mount = selection.split("/")[0];
    await run.fails({
      ...ROOT,
      SECRETS_SELECTION: selection,
      SECRETS_HASHICORP_VAULT_KV_VERSION: configured,
    }, {
      code: 2,
      line: new RegExp(
        `mount "${mount}" is KV version ${actual}, but SECRETS_HASHICORP_VAULT_KV_VERSION is ${configured}; set SECRETS_HASHICORP_VAULT_KV_VERSION=${actual}`,
      ),
      secrets: LEAKABLE,
    });
  }
});

Deno.test("403 on read fails cleanly naming the path and the read capability; vault unchanged", async () => {
  await using hv = startVault(seed());
  await using run = await vaultScenario(hv, EXISTING);
  await run.fails({ SECRETS_HASHICORP_VAULT_TOKEN: LIST_ONLY_TOKEN }, {
    code: 3,
    line:
      /HashiCorp Vault denied "read" on secret\/data\/\S+ \(HTTP 403 permission denied\): add the "read" capability/,
    secrets: LEAKABLE,
  });
});

Deno.test("403 on a sub-folder listing names the folder and the list capability", async () => {
  const token = "hvs.noIngestToken0000000000000001";
  const data = seed();
  data.tokens![token] = { policies: ["no-ingest"] };
  await using hv = startVault(data);
  await using run = await vaultScenario(hv, EXISTING);
  await run.fails({ SECRETS_HASHICORP_VAULT_TOKEN: token, SECRETS_SELECTION: "secret/SNOWFLAKE" }, {
    code: 3,
    line: /denied "list" on secret\/metadata\/SNOWFLAKE\/INGEST\/ /,
    secrets: [...LEAKABLE, token],
  });
});

Deno.test("429 from a rate-limit quota and 500s are retried and the run succeeds", async () => {
  await using hv = startVault(seed(), { throttleFirst: 4, failFirst: 2 });
  await using run = await vaultScenario(hv);
  await run.loads({ ...ROOT, SECRETS_SELECTION: "secret/SNOWFLAKE/TRANSFORM" }, LEAKABLE);
  assert.equal(hv.vault.counters.throttled, 4);
  assert.equal(hv.vault.counters.failed, 2);
  assert.deepEqual(await readVaultDoc(run.vault), TRANSFORM);
});

Deno.test("a Vault that stays sealed is retried until the deadline, then a clear error; vault unchanged", async () => {
  await using hv = startVault(seed(), { sealed: true });
  await using run = await vaultScenario(hv, EXISTING);
  const result = await run.fails({ ...ROOT, SECRETS_TIMEOUT: "3" }, {
    code: 4,
    line: /vault is sealed; unseal it/,
    secrets: LEAKABLE,
  });
  // A node of an HA cluster is sealed for a moment during a failover: retried.
  const { requests } = hv.server;
  assert.ok(requests > 2, `sealed is retried (${requests} requests)`);
  assert.ok(result.wallMs < 15_000, `ends near SECRETS_TIMEOUT (${result.wallMs} ms)`);
});

Deno.test("a selector of an unmounted path is a configuration error", async () => {
  await using hv = startVault(seed());
  await using run = await vaultScenario(hv, EXISTING);
  await run.fails({ ...ROOT, SECRETS_SELECTION: "nomount/x" }, {
    code: 2,
    line: /no secrets engine is mounted at "nomount\/"/,
  });
});
