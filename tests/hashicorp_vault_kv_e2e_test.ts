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
  vaultEnv,
} from "./support/hashicorp_vault.ts";
import { assertNoLeak, assertOneErrorLine } from "./support/assertions.ts";
import { readBytes, tempVault } from "./support/temp.ts";
import { runTool } from "./support/run_tool.ts";

const LEAKABLE = [...ALL_VALUES, ...CREDENTIALS];
const EXISTING = "# kept comment\nEXISTING:\n  KEY: keep-me\n";

Deno.test("KV v2: the whole secret mount by default, nested folders, deleted and destroyed versions skipped", async () => {
  const { server, vault } = startVault(seed(), { requireRequestHeader: true });
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, LEAKABLE);
    assert.deepEqual(await readVaultDoc(vaultPath), {
      EXISTING: { KEY: "keep-me" },
      SNOWFLAKE: {
        TRANSFORM: { USERNAME: VALUES.transformUser, PASSWORD: VALUES.transformPassword },
        INGEST: { deep: { CREDS: { PASSWORD: VALUES.ingestPassword } } },
      },
      app: { config: { JSON: VALUES.appConfig, API_KEY: VALUES.apiKey } },
    });
    assert.ok((await Deno.readTextFile(vaultPath)).startsWith("# kept comment"));
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
  } finally {
    await server.close();
  }
});

Deno.test("KV v1: nested folders under a v1 mount with SECRETS_HASHICORP_VAULT_KV_VERSION=1", async () => {
  const { server } = startVault(seed());
  try {
    await using tmp = await tempVault();
    const { vault: vaultPath } = tmp;
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        VAULT_TOKEN: ROOT_TOKEN,
        SECRETS_HASHICORP_VAULT_KV_VERSION: "1",
        SECRETS_SELECTION: "kv1",
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, LEAKABLE);
    assert.deepEqual(await readVaultDoc(vaultPath), {
      legacy: {
        db: { PASSWORD: VALUES.v1Password },
        nested: { svc: { api: { TOKEN: VALUES.v1Token } } },
      },
    });
    assert.ok(server.log.includes("LIST /v1/kv1/legacy/nested/"));
    assert.ok(server.log.includes("GET /v1/kv1/legacy/nested/svc/api"));
    assert.ok(!server.log.some((line) => line.includes("/metadata/") || line.includes("/data/")));
  } finally {
    await server.close();
  }
});

Deno.test("several selectors: a folder, a single secret and another mount; strip prefix and JSON expansion", async () => {
  const { server } = startVault(seed());
  try {
    await using tmp = await tempVault();
    const { vault: vaultPath } = tmp;
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
        SECRETS_SELECTION: "secret/SNOWFLAKE/INGEST/, secret/app/config,other/team",
        SECRETS_STRIP_PREFIX: "app/",
        SECRETS_EXPAND_JSON: "true",
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, LEAKABLE);
    assert.deepEqual(await readVaultDoc(vaultPath), {
      SNOWFLAKE: { INGEST: { deep: { CREDS: { PASSWORD: VALUES.ingestPassword } } } },
      config: {
        JSON: { host: "db.internal", port: 5432, secret: VALUES.appConfigSecret },
        API_KEY: VALUES.apiKey,
      },
      team: { x: { VAL: VALUES.otherMount } },
    });
    assert.ok(!server.log.some((line) => line.includes("TRANSFORM")), "TRANSFORM not selected");
    // The single secret was read once, not once per probe.
    assert.equal(server.log.filter((line) => line === "GET /v1/secret/data/app/config").length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("SECRETS_SELECTION_FILTER keeps only matching secrets and skips reading the rest", async () => {
  const { server } = startVault(seed());
  try {
    await using tmp = await tempVault();
    const { vault: vaultPath } = tmp;
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
        SECRETS_SELECTION_FILTER: "TRANSFORM",
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, LEAKABLE);
    assert.deepEqual(await readVaultDoc(vaultPath), {
      SNOWFLAKE: {
        TRANSFORM: { USERNAME: VALUES.transformUser, PASSWORD: VALUES.transformPassword },
      },
    });
    assert.ok(!server.log.includes("GET /v1/secret/data/app/config"));
  } finally {
    await server.close();
  }
});

Deno.test("namespace: X-Vault-Namespace on every call; secrets exist only in their namespace", async () => {
  const { server, vault } = startVault(seed());
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: TEAM_TOKEN,
        SECRETS_HASHICORP_VAULT_NAMESPACE: "team-a",
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, LEAKABLE);
    assert.deepEqual(await readVaultDoc(vaultPath), {
      EXISTING: { KEY: "keep-me" },
      SNOWFLAKE: { TEAM: { PASSWORD: VALUES.teamPassword } },
    });
    assert.deepEqual([...vault.counters.namespaces], ["team-a"]);

    // The same token without the namespace is unknown in the root namespace: denied.
    const before = await readBytes(vaultPath);
    const denied = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: TEAM_TOKEN,
      }),
    );
    assert.equal(denied.code, 3, denied.stderr);
    assertOneErrorLine(denied, /denied "list" on secret\/metadata\/ .*permission denied/);
    assertNoLeak(denied, LEAKABLE);
    assert.deepEqual(await readBytes(vaultPath), before);

    // A root token in namespace team-a sees team-a's secrets only when the header is sent
    // (VAULT_NAMESPACE fallback); the root namespace has no SNOWFLAKE/TEAM.
    await using tmp2 = await tempVault();
    const { vault: rootPath } = tmp2;
    const rootRun = await runTool(
      [],
      vaultEnv(server.url, rootPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
        SECRETS_SELECTION: "secret/SNOWFLAKE/TEAM",
      }),
    );
    assert.equal(rootRun.code, 2, rootRun.stderr);
    assertOneErrorLine(rootRun, /secret\/SNOWFLAKE\/TEAM" matches no secret or folder/);
    assertNoLeak(rootRun, LEAKABLE);
    assert.equal(await readBytes(rootPath), null);
  } finally {
    await server.close();
  }
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
  const { server } = startVault(data, {}, { latencyMs: 25 });
  try {
    await using tmp = await tempVault();
    const { vault: vaultPath } = tmp;
    const started = performance.now();
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
        SECRETS_HASHICORP_VAULT_CONCURRENCY: "5",
      }),
    );
    const elapsed = performance.now() - started;
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, [...values, ...CREDENTIALS]);
    const doc = await readVaultDoc(vaultPath) as {
      bulk: Record<string, Record<string, { V: string }>>;
    };
    assert.equal(Object.keys(doc.bulk).length, 6);
    assert.equal(doc.bulk.f3.s7.V, secrets["bulk/f3/s7"].data.V);
    assert.equal(server.peakConcurrency, 5, `peak ${server.peakConcurrency}`);
    // 56 requests at 25 ms each would take 1.4 s serially.
    console.log(
      `    ${server.requests} requests, peak ${server.peakConcurrency}, ${Math.round(elapsed)} ms`,
    );
  } finally {
    await server.close();
  }
});

Deno.test("GET ?list=true is answered like LIST by the fake", async () => {
  const { server } = startVault(seed());
  try {
    const response = await fetch(`${server.url}/v1/secret/metadata/SNOWFLAKE?list=true`, {
      headers: { "X-Vault-Token": ROOT_TOKEN },
    });
    assert.equal(response.status, 200);
    assert.deepEqual((await response.json()).data.keys, ["INGEST/", "TRANSFORM"]);
    const missing = await fetch(`${server.url}/v1/secret/metadata/nothing/here/`, {
      method: "LIST",
      headers: { "X-Vault-Token": ROOT_TOKEN },
    });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { errors: [] });
    const noToken = await fetch(`${server.url}/v1/secret/data/SNOWFLAKE/TRANSFORM`);
    assert.equal(noToken.status, 403);
    assert.deepEqual(await noToken.json(), { errors: ["permission denied"] });
  } finally {
    await server.close();
  }
});

Deno.test("a wrong KV version names the version the mount really is", async () => {
  const { server } = startVault(seed());
  try {
    for (
      const [selection, configured, actual] of [["secret", "1", "2"], ["kv1/legacy", "2", "1"]]
    ) {
      await using tmp = await tempVault(EXISTING);
      const { vault: vaultPath } = tmp;
      const before = await readBytes(vaultPath);
      const result = await runTool(
        [],
        vaultEnv(server.url, vaultPath, {
          SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
          SECRETS_SELECTION: selection,
          SECRETS_HASHICORP_VAULT_KV_VERSION: configured,
        }),
      );
      assert.equal(result.code, 2, result.stderr);
      assertOneErrorLine(
        result,
        new RegExp(
          `mount "${
            selection.split("/")[0]
          }" is KV version ${actual}, but SECRETS_HASHICORP_VAULT_KV_VERSION is ${configured}; set SECRETS_HASHICORP_VAULT_KV_VERSION=${actual}`,
        ),
      );
      assertNoLeak(result, LEAKABLE);
      assert.deepEqual(await readBytes(vaultPath), before);
    }
  } finally {
    await server.close();
  }
});

Deno.test("403 on read fails cleanly naming the path and the read capability; vault unchanged", async () => {
  const { server } = startVault(seed());
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const before = await readBytes(vaultPath);
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: LIST_ONLY_TOKEN,
      }),
    );
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(
      result,
      /HashiCorp Vault denied "read" on secret\/data\/\S+ \(HTTP 403 permission denied\): add the "read" capability/,
    );
    assertNoLeak(result, LEAKABLE);
    assert.deepEqual(await readBytes(vaultPath), before);
  } finally {
    await server.close();
  }
});

Deno.test("403 on a sub-folder listing names the folder and the list capability", async () => {
  const data = seed();
  data.tokens!["hvs.noIngestToken0000000000000001"] = { policies: ["no-ingest"] };
  const { server } = startVault(data);
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const before = await readBytes(vaultPath);
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: "hvs.noIngestToken0000000000000001",
        SECRETS_SELECTION: "secret/SNOWFLAKE",
      }),
    );
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(result, /denied "list" on secret\/metadata\/SNOWFLAKE\/INGEST\/ /);
    assertNoLeak(result, [...LEAKABLE, "hvs.noIngestToken0000000000000001"]);
    assert.deepEqual(await readBytes(vaultPath), before);
  } finally {
    await server.close();
  }
});

Deno.test("429 from a rate-limit quota and 500s are retried and the run succeeds", async () => {
  const { server, vault } = startVault(seed(), { throttleFirst: 4, failFirst: 2 });
  try {
    await using tmp = await tempVault();
    const { vault: vaultPath } = tmp;
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
        SECRETS_SELECTION: "secret/SNOWFLAKE/TRANSFORM",
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, LEAKABLE);
    assert.equal(vault.counters.throttled, 4);
    assert.equal(vault.counters.failed, 2);
    assert.deepEqual(await readVaultDoc(vaultPath), {
      SNOWFLAKE: {
        TRANSFORM: { USERNAME: VALUES.transformUser, PASSWORD: VALUES.transformPassword },
      },
    });
  } finally {
    await server.close();
  }
});

Deno.test("a Vault that stays sealed is retried until the deadline, then a clear error; vault unchanged", async () => {
  const { server } = startVault(seed(), { sealed: true });
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const before = await readBytes(vaultPath);
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
        SECRETS_TIMEOUT: "3",
      }),
    );
    assert.equal(result.code, 4, result.stderr);
    assertOneErrorLine(result, /vault is sealed; unseal it/);
    assertNoLeak(result, LEAKABLE);
    assert.deepEqual(await readBytes(vaultPath), before);
    // A node of an HA cluster is sealed for a moment during a failover: retried.
    assert.ok(server.requests > 2, `sealed is retried (${server.requests} requests)`);
    assert.ok(result.wallMs < 15_000, `ends near SECRETS_TIMEOUT (${result.wallMs} ms)`);
  } finally {
    await server.close();
  }
});

Deno.test("a selector of an unmounted path is a configuration error", async () => {
  const { server } = startVault(seed());
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const before = await readBytes(vaultPath);
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
        SECRETS_SELECTION: "nomount/x",
      }),
    );
    assert.equal(result.code, 2, result.stderr);
    assertOneErrorLine(result, /no secrets engine is mounted at "nomount\/"/);
    assert.deepEqual(await readBytes(vaultPath), before);
  } finally {
    await server.close();
  }
});
