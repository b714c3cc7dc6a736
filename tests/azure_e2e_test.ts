import assert from "node:assert/strict";
import { at, readVaultDoc } from "./support/vault.ts";
import { generateKeyPair, SignJWT } from "jose";
import { assertNoLeak, assertOneErrorLine } from "./support/assertions.ts";
import { readBytes, tempVault } from "./support/temp.ts";
import { runTool } from "./support/run_tool.ts";
import {
  APP_ID,
  FULL_ACCESS,
  imdsEnv,
  manySecrets,
  MI_ID,
  principalEnv,
  startAzure,
  TENANT,
  USER_MI_ID,
} from "./support/azure.ts";
import { makeTestCertificate } from "./fakes/azure_cert.ts";
import { FEDERATION_AUDIENCE } from "./fakes/azure_identity.ts";

Deno.test("IMDS: lists over several pages, skips disabled, warns about expired, fetches concurrently", async () => {
  const secrets = manySecrets(60);
  const expiredAt = Math.floor(Date.now() / 1000) - 3600;
  const world = startAzure(
    {},
    {
      secrets: [
        ...secrets,
        { name: "OLD-THING", value: "old-value-123", exp: expiredAt },
        { name: "OFF-THING", value: "disabled-value-456", enabled: false },
      ],
      access: FULL_ACCESS,
    },
    {},
    20,
  );
  try {
    await using tmp = await tempVault("KEEP:\n  ME: yes\n");
    const { vault } = tmp;
    const result = await runTool(["--verbose"], {
      ...imdsEnv(world, vault),
      SECRETS_AZURE_CONCURRENCY: "6",
    });
    assert.equal(result.code, 0, result.stderr);
    const doc = await readVaultDoc(vault);
    for (const s of secrets) {
      const [, id] = s.name.split("-");
      assert.equal(at(doc, `APP.${id}.PASSWORD`), s.value);
    }
    assert.equal(at(doc, "OLD.THING"), "old-value-123");
    assert.equal(at(doc, "OFF"), undefined);
    assert.equal(at(doc, "KEEP.ME"), "yes");
    assert.match(result.stderr, /secret "OFF-THING" is disabled in Key Vault; skipped/);
    assert.match(result.stderr, /secret "OLD-THING" expired at .*; loading it anyway/);
    assert.equal(world.kv.counters.listPages, 3); // 62 secrets, 25 per page
    assert.equal(world.kv.counters.gets, 61);
    assert.equal(world.identity.counters.imds, 1, "one token for the whole load");
    assert.equal(world.identity.counters.issued, 1);
    assert.ok(world.kvServer.peakConcurrency > 1, "values are fetched concurrently");
    // Six value reads plus the next list page, fetched while the values are read.
    assert.ok(world.kvServer.peakConcurrency <= 7, `peak ${world.kvServer.peakConcurrency} > 7`);
    assertNoLeak(result, [
      ...secrets.map((s) => s.value),
      "old-value-123",
      "disabled-value-456",
      ...world.identity.seen,
    ]);
  } finally {
    await world.close();
  }
});

Deno.test("IMDS: a user-assigned identity is asked for with its client id", async () => {
  const world = startAzure({ systemIdentity: undefined }, {
    secrets: [{ name: "DB-PASSWORD", value: "user-mi-pw-1" }],
    access: { [USER_MI_ID]: { list: true, get: true } },
  });
  try {
    await using tmp = await tempVault();
    const { vault } = tmp;
    const result = await runTool([], { ...imdsEnv(world, vault), AZURE_CLIENT_ID: USER_MI_ID });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(at(await readVaultDoc(vault), "DB.PASSWORD"), "user-mi-pw-1");
    assert.ok(world.identityServer.log.some((l) => l.includes(`client_id=${USER_MI_ID}`)));
    assertNoLeak(result, ["user-mi-pw-1", ...world.identity.seen]);
  } finally {
    await world.close();
  }
});

Deno.test("IMDS: no identity on the machine fails cleanly with the vault unchanged", async () => {
  const world = startAzure({ systemIdentity: undefined }, {
    secrets: [{ name: "DB-PASSWORD", value: "never-fetched-1" }],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault("A: b\n");
    const { vault } = tmp;
    const before = await readBytes(vault);
    const result = await runTool([], imdsEnv(world, vault));
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(result, /IMDS.*refused.*Identity not found/);
    assert.deepEqual(await readBytes(vault), before);
    assert.equal(world.kv.counters.listPages, 0);
  } finally {
    await world.close();
  }
});

Deno.test("App Service: IDENTITY_ENDPOINT with IDENTITY_HEADER", async () => {
  const header = "app-service-identity-header-0123456789";
  const world = startAzure({ identityHeader: header }, {
    secrets: [{ name: "SNOWFLAKE-TRANSFORM-USERNAME", value: "transform-user-app" }],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault();
    const { vault } = tmp;
    const result = await runTool([], {
      SECRETS_MANAGER: "AZURE_KEY_VAULT",
      SECRETS_AZURE_KEY_VAULT_URL: world.kvServer.url,
      IDENTITY_ENDPOINT: `${world.identityServer.url}/msi/token`,
      IDENTITY_HEADER: header,
      SECRETS_VAULT_PATH: vault,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      at(await readVaultDoc(vault), "SNOWFLAKE.TRANSFORM.USERNAME"),
      "transform-user-app",
    );
    assert.equal(world.identity.counters.appService, 1);
    assert.equal(world.identity.counters.imds, 0);
    assertNoLeak(result, ["transform-user-app", header, ...world.identity.seen]);
  } finally {
    await world.close();
  }
});

Deno.test("service principal: the client secret comes from the existing vault", async () => {
  const clientSecret = "client-secret-from-vault~0123456789";
  const world = startAzure({ apps: [{ clientId: APP_ID, secret: clientSecret }] }, {
    secrets: [{ name: "SNOWFLAKE-TRANSFORM-PASSWORD", value: "sp-password-42" }],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault(`AZURE:\n  PROD:\n    SECRET: ${clientSecret}\n`);
    const { vault } = tmp;
    const result = await runTool(["--verbose"], {
      ...principalEnv(world, vault),
      SECRETS_AZURE_CLIENT_SECRET_LOCATION: "AZURE.PROD.SECRET",
    });
    assert.equal(result.code, 0, result.stderr);
    const doc = await readVaultDoc(vault);
    assert.equal(at(doc, "SNOWFLAKE.TRANSFORM.PASSWORD"), "sp-password-42");
    assert.equal(at(doc, "AZURE.PROD.SECRET"), clientSecret);
    assert.equal(world.identity.counters.token, 1);
    assertNoLeak(result, ["sp-password-42", clientSecret, ...world.identity.seen]);
  } finally {
    await world.close();
  }
});

Deno.test("service principal: a wrong client secret fails cleanly with the vault unchanged", async () => {
  const world = startAzure({ apps: [{ clientId: APP_ID, secret: "the-right-secret-1" }] }, {
    secrets: [{ name: "X-Y", value: "not-fetched-val" }],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault("AZURE:\n  DEFAULT:\n    CLIENT_SECRET: wrong-secret-999\n");
    const { vault } = tmp;
    const before = await readBytes(vault);
    const result = await runTool([], principalEnv(world, vault));
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(result, /invalid_client: AADSTS7000215/);
    assert.ok(!result.stderr.includes("Trace ID"), "no trace ids in the message");
    assert.deepEqual(await readBytes(vault), before);
    assertNoLeak(result, ["wrong-secret-999", "the-right-secret-1"]);
  } finally {
    await world.close();
  }
});

Deno.test("service principal: no client secret in the vault is a configuration error", async () => {
  const world = startAzure({ apps: [{ clientId: APP_ID, secret: "s3cret-value" }] }, {
    secrets: [],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault("OTHER: 1\n");
    const { vault } = tmp;
    const before = await readBytes(vault);
    const result = await runTool([], principalEnv(world, vault));
    assert.equal(result.code, 2, result.stderr);
    assertOneErrorLine(result, /AZURE\.DEFAULT\.CLIENT_SECRET/);
    assert.deepEqual(await readBytes(vault), before);
    assert.equal(world.identity.counters.token, 0);
  } finally {
    await world.close();
  }
});

Deno.test("service principal: client certificate assertion (PS256, x5t#S256)", async () => {
  const cert = await makeTestCertificate();
  const world = startAzure({ apps: [{ clientId: APP_ID, certificatePem: cert.certPem }] }, {
    secrets: [{ name: "CERT-AUTH-VALUE", value: "cert-auth-secret-7" }],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault();
    const { dir, vault } = tmp;
    const pem = `${dir}/client.pem`;
    await Deno.writeTextFile(pem, cert.keyPem + cert.certPem);
    const result = await runTool([], {
      ...principalEnv(world, vault),
      SECRETS_AZURE_CLIENT_CERTIFICATE_PATH: pem,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(at(await readVaultDoc(vault), "CERT.AUTH.VALUE"), "cert-auth-secret-7");
    assert.equal(world.identity.counters.issued, 1);
    assertNoLeak(result, ["cert-auth-secret-7", ...world.identity.seen]);
  } finally {
    await world.close();
  }
});

Deno.test("service principal: a certificate the app does not know is refused", async () => {
  const registered = await makeTestCertificate();
  const other = await makeTestCertificate();
  const world = startAzure({ apps: [{ clientId: APP_ID, certificatePem: registered.certPem }] }, {
    secrets: [{ name: "CERT-AUTH-VALUE", value: "never-fetched-2" }],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault("A: b\n");
    const { dir, vault } = tmp;
    const before = await readBytes(vault);
    const pem = `${dir}/client.pem`;
    await Deno.writeTextFile(pem, other.keyPem + other.certPem);
    const result = await runTool([], {
      ...principalEnv(world, vault),
      SECRETS_AZURE_CLIENT_CERTIFICATE_PATH: pem,
    });
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(result, /AADSTS700027/);
    assert.deepEqual(await readBytes(vault), before);
    assert.equal(world.identity.counters.issued, 0);
  } finally {
    await world.close();
  }
});

Deno.test("workload identity federation: AZURE_FEDERATED_TOKEN_FILE with AZURE_TENANT_ID/AZURE_CLIENT_ID", async () => {
  const issuerKeys = await generateKeyPair("RS256");
  const issuer = "https://oidc.example.test/ci";
  const subject = "system:serviceaccount:ci:loader";
  const world = startAzure({
    apps: [{ clientId: APP_ID, federated: { issuer, subject, key: issuerKeys.publicKey } }],
  }, {
    secrets: [{ name: "FED-VALUE", value: "federated-secret-9" }],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault();
    const { dir, vault } = tmp;
    const oidc = await new SignJWT({})
      .setProtectedHeader({ alg: "RS256" })
      .setIssuer(issuer)
      .setSubject(subject)
      .setAudience(FEDERATION_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(issuerKeys.privateKey);
    const tokenFile = `${dir}/azure-identity-token`;
    await Deno.writeTextFile(tokenFile, `${oidc}\n`);
    const result = await runTool([], {
      SECRETS_MANAGER: "AZURE_KEY_VAULT",
      SECRETS_AZURE_KEY_VAULT_URL: world.kvServer.url,
      SECRETS_AZURE_USE_MANAGED_IDENTITY: "0",
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: APP_ID,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      AZURE_AUTHORITY_HOST: world.identityServer.url,
      SECRETS_VAULT_PATH: vault,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(at(await readVaultDoc(vault), "FED.VALUE"), "federated-secret-9");
    assertNoLeak(result, ["federated-secret-9", oidc, ...world.identity.seen]);
  } finally {
    await world.close();
  }
});

Deno.test("selection: only the named secrets are read, without listing", async () => {
  const world = startAzure({}, {
    secrets: [
      { name: "A-ONE", value: "value-a-one" },
      { name: "B-TWO", value: "value-b-two" },
      { name: "C-THREE", value: "value-c-three" },
    ],
    access: { [MI_ID]: { list: false, get: true } },
  });
  try {
    await using tmp = await tempVault();
    const { vault } = tmp;
    const result = await runTool([], {
      ...imdsEnv(world, vault),
      SECRETS_SELECTION: "A-ONE, C-THREE",
    });
    assert.equal(result.code, 0, result.stderr);
    const doc = await readVaultDoc(vault);
    assert.deepEqual(doc, { A: { ONE: "value-a-one" }, C: { THREE: "value-c-three" } });
    assert.equal(world.kv.counters.listPages, 0);
    assertNoLeak(result, ["value-a-one", "value-b-two", "value-c-three"]);
  } finally {
    await world.close();
  }
});

Deno.test("selection: a missing secret is an error naming it, the vault unchanged", async () => {
  const world = startAzure({}, {
    secrets: [{ name: "A-ONE", value: "value-a-one" }],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault("A: b\n");
    const { vault } = tmp;
    const before = await readBytes(vault);
    const result = await runTool([], {
      ...imdsEnv(world, vault),
      SECRETS_SELECTION: "A-ONE,NOPE-GONE",
    });
    assert.equal(result.code, 2, result.stderr);
    assertOneErrorLine(result, /"NOPE-GONE" does not exist/);
    assert.deepEqual(await readBytes(vault), before);
    assertNoLeak(result, ["value-a-one"]);
  } finally {
    await world.close();
  }
});

Deno.test("filter: SECRETS_SELECTION_FILTER keeps names containing it", async () => {
  const world = startAzure({}, {
    secrets: [
      { name: "SNOWFLAKE-TRANSFORM-USERNAME", value: "sf-user-1" },
      { name: "SNOWFLAKE-TRANSFORM-PASSWORD", value: "sf-pass-1" },
      { name: "GITHUB-TOKEN", value: "gh-token-1" },
    ],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault();
    const { vault } = tmp;
    const result = await runTool([], {
      ...imdsEnv(world, vault),
      SECRETS_SELECTION_FILTER: "SNOWFLAKE",
      SECRETS_STRIP_PREFIX: "SNOWFLAKE-",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await readVaultDoc(vault), {
      TRANSFORM: { PASSWORD: "sf-pass-1", USERNAME: "sf-user-1" },
    });
    assert.equal(world.kv.counters.gets, 2);
    assertNoLeak(result, ["sf-user-1", "sf-pass-1", "gh-token-1"]);
  } finally {
    await world.close();
  }
});

Deno.test("expand: a JSON secret reaches keys with other characters", async () => {
  const json = JSON.stringify({ DEFAULT: { S3_KEY: "AKIA-test-key-1", S3_SECRET: "s3-secret-1" } });
  const world = startAzure({}, {
    secrets: [{ name: "AWS", value: json, contentType: "application/json" }],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault();
    const { vault } = tmp;
    const result = await runTool([], { ...imdsEnv(world, vault), SECRETS_EXPAND_JSON: "1" });
    assert.equal(result.code, 0, result.stderr);
    const doc = await readVaultDoc(vault);
    assert.equal(at(doc, "AWS.DEFAULT.S3_KEY"), "AKIA-test-key-1");
    assert.equal(at(doc, "AWS.DEFAULT.S3_SECRET"), "s3-secret-1");
    assertNoLeak(result, [json]);
  } finally {
    await world.close();
  }
});

Deno.test("429 with Retry-After is honoured and the load completes", async () => {
  const secrets = manySecrets(8);
  const world = startAzure({}, { secrets, access: FULL_ACCESS }, {
    throttle: { requests: 4, windowMs: 1000, retryAfterSeconds: 1 },
  });
  try {
    await using tmp = await tempVault();
    const { vault } = tmp;
    const result = await runTool([], imdsEnv(world, vault));
    assert.equal(result.code, 0, result.stderr);
    assert.ok(world.kv.counters.throttled > 0, "the fake throttled");
    assert.equal(world.kv.counters.earlyRetries, 0, "every retry waited for Retry-After");
    const doc = await readVaultDoc(vault);
    for (const s of secrets) assert.equal(at(doc, s.name.replaceAll("-", ".")), s.value);
    assertNoLeak(result, secrets.map((s) => s.value));
  } finally {
    await world.close();
  }
});

for (const model of ["rbac", "policy"] as const) {
  Deno.test(`403 (${model}) on list fails cleanly naming the permission, vault unchanged`, async () => {
    const world = startAzure({}, {
      secrets: [{ name: "A-B", value: "value-never-1" }],
      access: { [MI_ID]: { list: false, get: true } },
      model,
    });
    try {
      await using tmp = await tempVault("EXISTING:\n  KEY: kept\n");
      const { vault } = tmp;
      const before = await readBytes(vault);
      const result = await runTool([], imdsEnv(world, vault));
      assert.equal(result.code, 3, result.stderr);
      assertOneErrorLine(
        result,
        /denied listing secrets.*secrets list permission.*Key Vault Secrets User/,
      );
      assert.deepEqual(await readBytes(vault), before);
      assert.equal(world.kv.counters.gets, 0);
    } finally {
      await world.close();
    }
  });
}

Deno.test("403 on get fails cleanly naming the secret and permission", async () => {
  const world = startAzure({}, {
    secrets: [{ name: "A-B", value: "value-never-2" }],
    access: { [MI_ID]: { list: true, get: false } },
  });
  try {
    await using tmp = await tempVault("EXISTING: kept\n");
    const { vault } = tmp;
    const before = await readBytes(vault);
    const result = await runTool([], imdsEnv(world, vault));
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(result, /denied reading secret "A-B".*secrets get permission/);
    assert.deepEqual(await readBytes(vault), before);
  } finally {
    await world.close();
  }
});

Deno.test("401 mid-load: exactly one fresh token, then the load completes", async () => {
  const secrets = manySecrets(12);
  const world = startAzure({}, { secrets, access: FULL_ACCESS }, { revokeAfterRequests: 3 });
  try {
    await using tmp = await tempVault();
    const { vault } = tmp;
    const result = await runTool([], { ...imdsEnv(world, vault), SECRETS_AZURE_CONCURRENCY: "4" });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(world.identity.counters.imds, 2, "one token, then one refresh");
    assert.ok(world.kv.counters.unauthorized >= 1);
    assert.equal(Object.keys((await readVaultDoc(vault)).APP as object).length, 12);
    assertNoLeak(result, [...secrets.map((s) => s.value), ...world.identity.seen]);
  } finally {
    await world.close();
  }
});

Deno.test("401 with every token: one refresh, then a clean authentication error (no loop)", async () => {
  const world = startAzure({}, {
    secrets: [{ name: "A-B", value: "never-read-3" }],
    access: FULL_ACCESS,
  }, {
    verify: () => Promise.resolve(undefined), // a vault that trusts none of these tokens
  });
  try {
    await using tmp = await tempVault("A: b\n");
    const { vault } = tmp;
    const before = await readBytes(vault);
    const result = await runTool([], imdsEnv(world, vault));
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(result, /refused a fresh token.*HTTP 401/);
    assert.equal(world.identity.counters.imds, 2);
    assert.equal(world.kv.counters.unauthorized, 2);
    assert.deepEqual(await readBytes(vault), before);
    assertNoLeak(result, world.identity.seen);
  } finally {
    await world.close();
  }
});

Deno.test("plain http to a non-loopback vault is a configuration error", async () => {
  await using tmp = await tempVault();
  const { vault } = tmp;
  const result = await runTool([], {
    SECRETS_MANAGER: "AZURE_KEY_VAULT",
    SECRETS_AZURE_KEY_VAULT_URL: "http://myvault.vault.azure.net",
    SECRETS_VAULT_PATH: vault,
  });
  assert.equal(result.code, 2, result.stderr);
  assertOneErrorLine(result, /plain http.*loopback/);
  assert.equal(await readBytes(vault), null);
});

Deno.test("no IMDS reachable: a backend error with the hint to use a service principal", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  await using tmp = await tempVault("A: b\n");
  const { vault } = tmp;
  const before = await readBytes(vault);
  const result = await runTool([], {
    SECRETS_MANAGER: "AZURE_KEY_VAULT",
    SECRETS_AZURE_KEY_VAULT_URL: "https://myvault.vault.azure.net",
    AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${port}`,
    SECRETS_VAULT_PATH: vault,
  });
  assert.equal(result.code, 4, result.stderr);
  assertOneErrorLine(result, /IMDS.*SECRETS_AZURE_USE_MANAGED_IDENTITY=0/);
  assert.deepEqual(await readBytes(vault), before);
});

Deno.test("selection: a disabled secret is an error naming it", async () => {
  const world = startAzure({}, {
    secrets: [{ name: "ON-ONE", value: "on-value-1" }, {
      name: "OFF-ONE",
      value: "off-value-1",
      enabled: false,
    }],
    access: FULL_ACCESS,
  });
  try {
    await using tmp = await tempVault("A: b\n");
    const { vault } = tmp;
    const before = await readBytes(vault);
    const result = await runTool([], {
      ...imdsEnv(world, vault),
      SECRETS_SELECTION: "ON-ONE,OFF-ONE",
    });
    assert.equal(result.code, 2, result.stderr);
    assertOneErrorLine(result, /"OFF-ONE" is disabled/);
    assert.deepEqual(await readBytes(vault), before);
    assertNoLeak(result, ["on-value-1", "off-value-1"]);
  } finally {
    await world.close();
  }
});
