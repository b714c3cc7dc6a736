/**
 * End-to-end tests of the Azure Key Vault backend: every way to get a token (IMDS, App
 * Service, service principal with a secret or a certificate, workload identity federation),
 * selection, filtering and JSON expansion, throttling, and the clean failures (403, 401,
 * unknown identities, missing or disabled secrets) that leave the vault as it was.
 */

import assert from "node:assert/strict";
import { at, readVaultDoc } from "./support/vault.ts";
import { generateKeyPair, SignJWT } from "jose";
import { scenario } from "./support/scenario.ts";
import {
  APP_ID,
  federatedEnv,
  FULL_ACCESS,
  imdsScenario,
  manySecrets,
  MI_ID,
  principalScenario,
  startAzure,
  USER_MI_ID,
} from "./support/azure.ts";
import { makeTestCertificate } from "./fakes/azure_cert.ts";
import { FEDERATION_AUDIENCE } from "./fakes/azure_identity.ts";

const KEY_VAULT = { SECRETS_MANAGER: "AZURE_KEY_VAULT" };

Deno.test("IMDS: lists over several pages, skips disabled, warns about expired, fetches concurrently", async () => {
  const secrets = manySecrets(60);
  const expiredAt = Math.floor(Date.now() / 1000) - 3600;
  await using world = startAzure(
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
  await using run = await imdsScenario(world, "KEEP:\n  ME: yes\n");
  const result = await run.loads({ SECRETS_AZURE_CONCURRENCY: "6" }, () => [
    ...secrets.map((s) => s.value),
    "old-value-123",
    "disabled-value-456",
    ...world.identity.seen,
  ], ["--verbose"]);
  const doc = await readVaultDoc(run.vault);
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
});

Deno.test("IMDS: a user-assigned identity is asked for with its client id", async () => {
  await using world = startAzure({ systemIdentity: undefined }, {
    secrets: [{ name: "DB-PASSWORD", value: "user-mi-pw-1" }],
    access: { [USER_MI_ID]: { list: true, get: true } },
  });
  await using run = await imdsScenario(world);
  await run.loads({ AZURE_CLIENT_ID: USER_MI_ID }, () => ["user-mi-pw-1", ...world.identity.seen]);
  assert.equal(at(await readVaultDoc(run.vault), "DB.PASSWORD"), "user-mi-pw-1");
  assert.ok(world.identityServer.log.some((l) => l.includes(`client_id=${USER_MI_ID}`)));
});

Deno.test("IMDS: no identity on the machine fails cleanly with the vault unchanged", async () => {
  await using world = startAzure({ systemIdentity: undefined }, {
    secrets: [{ name: "DB-PASSWORD", value: "never-fetched-1" }],
    access: FULL_ACCESS,
  });
  await using run = await imdsScenario(world, "A: b\n");
  await run.fails({}, { code: 3, line: /IMDS.*refused.*Identity not found/ });
  assert.equal(world.kv.counters.listPages, 0);
});

Deno.test("App Service: IDENTITY_ENDPOINT with IDENTITY_HEADER", async () => {
  const header = "app-service-identity-header-0123456789";
  await using world = startAzure({ identityHeader: header }, {
    secrets: [{ name: "SNOWFLAKE-TRANSFORM-USERNAME", value: "transform-user-app" }],
    access: FULL_ACCESS,
  });
  await using run = await scenario((vault) => ({
    ...KEY_VAULT,
    SECRETS_AZURE_KEY_VAULT_URL: world.kvServer.url,
    IDENTITY_ENDPOINT: `${world.identityServer.url}/msi/token`,
    IDENTITY_HEADER: header,
    SECRETS_VAULT_PATH: vault,
  }));
  await run.loads({}, () => ["transform-user-app", header, ...world.identity.seen]);
  assert.equal(
    at(await readVaultDoc(run.vault), "SNOWFLAKE.TRANSFORM.USERNAME"),
    "transform-user-app",
  );
  assert.equal(world.identity.counters.appService, 1);
  assert.equal(world.identity.counters.imds, 0);
});

Deno.test("service principal: the client secret comes from the existing vault", async () => {
  const clientSecret = "client-secret-from-vault~0123456789";
  await using world = startAzure({ apps: [{ clientId: APP_ID, secret: clientSecret }] }, {
    secrets: [{ name: "SNOWFLAKE-TRANSFORM-PASSWORD", value: "sp-password-42" }],
    access: FULL_ACCESS,
  });
  await using run = await principalScenario(
    world,
    `AZURE:\n  PROD:\n    SECRET: ${clientSecret}\n`,
  );
  await run.loads(
    { SECRETS_AZURE_CLIENT_SECRET_LOCATION: "AZURE.PROD.SECRET" },
    () => ["sp-password-42", clientSecret, ...world.identity.seen],
    ["--verbose"],
  );
  const doc = await readVaultDoc(run.vault);
  assert.equal(at(doc, "SNOWFLAKE.TRANSFORM.PASSWORD"), "sp-password-42");
  assert.equal(at(doc, "AZURE.PROD.SECRET"), clientSecret);
  assert.equal(world.identity.counters.token, 1);
});

Deno.test("service principal: a wrong client secret fails cleanly with the vault unchanged", async () => {
  await using world = startAzure({ apps: [{ clientId: APP_ID, secret: "the-right-secret-1" }] }, {
    secrets: [{ name: "X-Y", value: "not-fetched-val" }],
    access: FULL_ACCESS,
  });
  await using run = await principalScenario(
    world,
    "AZURE:\n  DEFAULT:\n    CLIENT_SECRET: wrong-secret-999\n",
  );
  const result = await run.fails({}, {
    code: 3,
    line: /invalid_client: AADSTS7000215/,
    secrets: ["wrong-secret-999", "the-right-secret-1"],
  });
  assert.ok(!result.stderr.includes("Trace ID"), "no trace ids in the message");
});

Deno.test("service principal: no client secret in the vault is a configuration error", async () => {
  await using world = startAzure({ apps: [{ clientId: APP_ID, secret: "s3cret-value" }] }, {
    secrets: [],
    access: FULL_ACCESS,
  });
  await using run = await principalScenario(world, "OTHER: 1\n");
  await run.fails({}, { code: 2, line: /AZURE\.DEFAULT\.CLIENT_SECRET/ });
  assert.equal(world.identity.counters.token, 0);
});

Deno.test("service principal: client certificate assertion (PS256, x5t#S256)", async () => {
  const cert = await makeTestCertificate();
  await using world = startAzure({ apps: [{ clientId: APP_ID, certificatePem: cert.certPem }] }, {
    secrets: [{ name: "CERT-AUTH-VALUE", value: "cert-auth-secret-7" }],
    access: FULL_ACCESS,
  });
  await using run = await principalScenario(world);
  const pem = `${run.dir}/client.pem`;
  await Deno.writeTextFile(pem, cert.keyPem + cert.certPem);
  await run.loads(
    { SECRETS_AZURE_CLIENT_CERTIFICATE_PATH: pem },
    () => ["cert-auth-secret-7", ...world.identity.seen],
  );
  assert.equal(at(await readVaultDoc(run.vault), "CERT.AUTH.VALUE"), "cert-auth-secret-7");
  assert.equal(world.identity.counters.issued, 1);
});

Deno.test("service principal: a certificate the app does not know is refused", async () => {
  const registered = await makeTestCertificate();
  const other = await makeTestCertificate();
  await using world = startAzure({
    apps: [{ clientId: APP_ID, certificatePem: registered.certPem }],
  }, {
    secrets: [{ name: "CERT-AUTH-VALUE", value: "never-fetched-2" }],
    access: FULL_ACCESS,
  });
  await using run = await principalScenario(world, "A: b\n");
  const pem = `${run.dir}/client.pem`;
  await Deno.writeTextFile(pem, other.keyPem + other.certPem);
  await run.fails({ SECRETS_AZURE_CLIENT_CERTIFICATE_PATH: pem }, {
    code: 3,
    line: /AADSTS700027/,
  });
  assert.equal(world.identity.counters.issued, 0);
});

Deno.test("workload identity federation: AZURE_FEDERATED_TOKEN_FILE with AZURE_TENANT_ID/AZURE_CLIENT_ID", async () => {
  const issuerKeys = await generateKeyPair("RS256");
  const issuer = "https://oidc.example.test/ci";
  const subject = "system:serviceaccount:ci:loader";
  await using world = startAzure({
    apps: [{ clientId: APP_ID, federated: { issuer, subject, key: issuerKeys.publicKey } }],
  }, {
    secrets: [{ name: "FED-VALUE", value: "federated-secret-9" }],
    access: FULL_ACCESS,
  });
  await using run = await scenario((vault) => federatedEnv(world, vault));
  const oidc = await new SignJWT({})
    .setProtectedHeader({ alg: "RS256" })
    .setIssuer(issuer)
    .setSubject(subject)
    .setAudience(FEDERATION_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(issuerKeys.privateKey);
  const tokenFile = `${run.dir}/azure-identity-token`;
  await Deno.writeTextFile(tokenFile, `${oidc}\n`);
  await run.loads(
    { AZURE_FEDERATED_TOKEN_FILE: tokenFile },
    () => ["federated-secret-9", oidc, ...world.identity.seen],
  );
  assert.equal(at(await readVaultDoc(run.vault), "FED.VALUE"), "federated-secret-9");
});

Deno.test("selection: only the named secrets are read, without listing", async () => {
  await using world = startAzure({}, {
    secrets: [
      { name: "A-ONE", value: "value-a-one" },
      { name: "B-TWO", value: "value-b-two" },
      { name: "C-THREE", value: "value-c-three" },
    ],
    access: { [MI_ID]: { list: false, get: true } },
  });
  await using run = await imdsScenario(world);
  await run.loads({ SECRETS_SELECTION: "A-ONE, C-THREE" }, [
    "value-a-one",
    "value-b-two",
    "value-c-three",
  ]);
  const doc = await readVaultDoc(run.vault);
  assert.deepEqual(doc, { A: { ONE: "value-a-one" }, C: { THREE: "value-c-three" } });
  assert.equal(world.kv.counters.listPages, 0);
});

Deno.test("selection: a missing secret is an error naming it, the vault unchanged", async () => {
  await using world = startAzure({}, {
    secrets: [{ name: "A-ONE", value: "value-a-one" }],
    access: FULL_ACCESS,
  });
  await using run = await imdsScenario(world, "A: b\n");
  await run.fails({ SECRETS_SELECTION: "A-ONE,NOPE-GONE" }, {
    code: 2,
    line: /"NOPE-GONE" does not exist/,
    secrets: ["value-a-one"],
  });
});

Deno.test("filter: SECRETS_SELECTION_FILTER keeps names containing it", async () => {
  await using world = startAzure({}, {
    secrets: [
      { name: "SNOWFLAKE-TRANSFORM-USERNAME", value: "sf-user-1" },
      { name: "SNOWFLAKE-TRANSFORM-PASSWORD", value: "sf-pass-1" },
      { name: "GITHUB-TOKEN", value: "gh-token-1" },
    ],
    access: FULL_ACCESS,
  });
  await using run = await imdsScenario(world);
  await run.loads({
    SECRETS_SELECTION_FILTER: "SNOWFLAKE",
    SECRETS_STRIP_PREFIX: "SNOWFLAKE-",
  }, ["sf-user-1", "sf-pass-1", "gh-token-1"]);
  assert.deepEqual(await readVaultDoc(run.vault), {
    TRANSFORM: { PASSWORD: "sf-pass-1", USERNAME: "sf-user-1" },
  });
  assert.equal(world.kv.counters.gets, 2);
});

Deno.test("expand: a JSON secret reaches keys with other characters", async () => {
  const json = JSON.stringify({ DEFAULT: { S3_KEY: "AKIA-test-key-1", S3_SECRET: "s3-secret-1" } });
  await using world = startAzure({}, {
    secrets: [{ name: "AWS", value: json, contentType: "application/json" }],
    access: FULL_ACCESS,
  });
  await using run = await imdsScenario(world);
  await run.loads({ SECRETS_EXPAND_JSON: "1" }, [json]);
  const doc = await readVaultDoc(run.vault);
  assert.equal(at(doc, "AWS.DEFAULT.S3_KEY"), "AKIA-test-key-1");
  assert.equal(at(doc, "AWS.DEFAULT.S3_SECRET"), "s3-secret-1");
});

Deno.test("429 with Retry-After is honoured and the load completes", async () => {
  const secrets = manySecrets(8);
  await using world = startAzure({}, { secrets, access: FULL_ACCESS }, {
    throttle: { requests: 4, windowMs: 1000, retryAfterSeconds: 1 },
  });
  await using run = await imdsScenario(world);
  await run.loads({}, secrets.map((s) => s.value));
  assert.ok(world.kv.counters.throttled > 0, "the fake throttled");
  assert.equal(world.kv.counters.earlyRetries, 0, "every retry waited for Retry-After");
  const doc = await readVaultDoc(run.vault);
  for (const s of secrets) assert.equal(at(doc, s.name.replaceAll("-", ".")), s.value);
});

for (const model of ["rbac", "policy"] as const) {
  Deno.test(`403 (${model}) on list fails cleanly naming the permission, vault unchanged`, async () => {
    await using world = startAzure({}, {
      secrets: [{ name: "A-B", value: "value-never-1" }],
      access: { [MI_ID]: { list: false, get: true } },
      model,
    });
    await using run = await imdsScenario(world, "EXISTING:\n  KEY: kept\n");
    await run.fails({}, {
      code: 3,
      line: /denied listing secrets.*secrets list permission.*Key Vault Secrets User/,
    });
    assert.equal(world.kv.counters.gets, 0);
  });
}

Deno.test("403 on get fails cleanly naming the secret and permission", async () => {
  await using world = startAzure({}, {
    secrets: [{ name: "A-B", value: "value-never-2" }],
    access: { [MI_ID]: { list: true, get: false } },
  });
  await using run = await imdsScenario(world, "EXISTING: kept\n");
  await run.fails({}, { code: 3, line: /denied reading secret "A-B".*secrets get permission/ });
});

Deno.test("401 mid-load: exactly one fresh token, then the load completes", async () => {
  const secrets = manySecrets(12);
  await using world = startAzure({}, { secrets, access: FULL_ACCESS }, {
    revokeAfterRequests: 3,
  });
  await using run = await imdsScenario(world);
  await run.loads(
    { SECRETS_AZURE_CONCURRENCY: "4" },
    () => [...secrets.map((s) => s.value), ...world.identity.seen],
  );
  assert.equal(world.identity.counters.imds, 2, "one token, then one refresh");
  assert.ok(world.kv.counters.unauthorized >= 1);
  assert.equal(Object.keys((await readVaultDoc(run.vault)).APP as object).length, 12);
});

Deno.test("401 with every token: one refresh, then a clean authentication error (no loop)", async () => {
  await using world = startAzure({}, {
    secrets: [{ name: "A-B", value: "never-read-3" }],
    access: FULL_ACCESS,
  }, {
    verify: () => Promise.resolve(undefined), // a vault that trusts none of these tokens
  });
  await using run = await imdsScenario(world, "A: b\n");
  await run.fails({}, {
    code: 3,
    line: /refused a fresh token.*HTTP 401/,
    secrets: () => world.identity.seen,
  });
  assert.equal(world.identity.counters.imds, 2);
  assert.equal(world.kv.counters.unauthorized, 2);
});

Deno.test("plain http to a non-loopback vault is a configuration error", async () => {
  await using run = await scenario((vault) => ({
    ...KEY_VAULT,
    SECRETS_AZURE_KEY_VAULT_URL: "http://myvault.vault.azure.net",
    SECRETS_VAULT_PATH: vault,
  }));
  // No vault file before the run, and none after.
  await run.fails({}, { code: 2, line: /plain http.*loopback/ });
});

Deno.test("no IMDS reachable: a backend error with the hint to use a service principal", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  await using run = await scenario((vault) => ({
    ...KEY_VAULT,
    SECRETS_AZURE_KEY_VAULT_URL: "https://myvault.vault.azure.net",
    AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${port}`,
    SECRETS_VAULT_PATH: vault,
  }), { vault: "A: b\n" });
  await run.fails({}, { code: 4, line: /IMDS.*SECRETS_AZURE_USE_MANAGED_IDENTITY=0/ });
});

Deno.test("selection: a disabled secret is an error naming it", async () => {
  await using world = startAzure({}, {
    secrets: [{ name: "ON-ONE", value: "on-value-1" }, {
      name: "OFF-ONE",
      value: "off-value-1",
      enabled: false,
    }],
    access: FULL_ACCESS,
  });
  await using run = await imdsScenario(world, "A: b\n");
  await run.fails({ SECRETS_SELECTION: "ON-ONE,OFF-ONE" }, {
    code: 2,
    line: /"OFF-ONE" is disabled/,
    secrets: ["on-value-1", "off-value-1"],
  });
});
