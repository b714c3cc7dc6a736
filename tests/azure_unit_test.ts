import assert from "node:assert/strict";
import { decodeProtectedHeader } from "jose";
import { azureKeyVaultProvider } from "../providers/azure_key_vault/mod.ts";
import { createTokenCache } from "../providers/azure/auth.ts";
import { clientAssertion, parseClientCertificate } from "../providers/azure/certificate.ts";
import { parsePem, toPem } from "../providers/azure/der.ts";
import { type AzurePlan, azurePlan, vaultResource } from "../providers/azure/settings.ts";
import { fetchSecrets } from "../providers/azure_key_vault/fetch.ts";
import type { FetchContext, FetchedSecret, ProviderSettings } from "../lib/contract/provider.ts";
import { APP_ID, FULL_ACCESS, MI_ID, startAzure, TENANT } from "./support/azure.ts";
import { makeTestCertificate } from "./fakes/azure_cert.ts";
import { azureIdentityFake } from "./fakes/azure_identity.ts";
import { startFake } from "./fakes/server.ts";
import { kindOf } from "./support/assertions.ts";
import { configured, fixedVault, sandboxOf, testSettings } from "./support/settings.ts";

function settings(env: Record<string, string>, extra: Partial<ProviderSettings> = {}) {
  return testSettings({
    env,
    cwd: "/work/project",
    requestTimeoutMs: 5000,
    deadlineInMs: 20_000,
    ...extra,
  });
}

const VAULT = { SECRETS_AZURE_KEY_VAULT_URL: "https://myvault.vault.azure.net/" };

Deno.test("sandbox: IMDS needs only the vault and 169.254.169.254:80", async () => {
  const plan = await sandboxOf(azureKeyVaultProvider, settings(VAULT));
  assert.deepEqual(plan, {
    net: ["myvault.vault.azure.net:443", "169.254.169.254:80"],
    read: [],
    run: [],
  });
  const vault = fixedVault();
  await azureKeyVaultProvider.configure(settings(VAULT), vault);
  assert.deepEqual(vault.asked, []);
});

Deno.test("sandbox: App Service uses IDENTITY_ENDPOINT's host", async () => {
  const plan = await sandboxOf(
    azureKeyVaultProvider,
    settings({
      ...VAULT,
      IDENTITY_ENDPOINT: "http://localhost:42356/msi/token",
      IDENTITY_HEADER: "h",
    }),
  );
  assert.deepEqual(plan.net, ["myvault.vault.azure.net:443", "localhost:42356"]);
});

Deno.test("sandbox: service principals reach the authority; files are readable only when used", async () => {
  const sp = {
    ...VAULT,
    SECRETS_AZURE_USE_MANAGED_IDENTITY: "0",
    SECRETS_AZURE_TENANT_ID: TENANT,
    SECRETS_AZURE_CLIENT_ID: APP_ID,
  };
  const asked = fixedVault({ "AZURE.DEFAULT.CLIENT_SECRET": "x" });
  const withSecret = await azureKeyVaultProvider.configure(settings(sp), asked);
  assert.deepEqual(asked.asked, ["AZURE.DEFAULT.CLIENT_SECRET"]);
  assert.deepEqual(
    azureKeyVaultProvider.sandbox(withSecret),
    { net: ["myvault.vault.azure.net:443", "login.microsoftonline.com:443"], read: [], run: [] },
  );
  await assert.rejects(configured(azureKeyVaultProvider, settings(sp)), kindOf("config"));
  const cert = settings({ ...sp, SECRETS_AZURE_CLIENT_CERTIFICATE_PATH: "certs/sp.pem" });
  const certVault = fixedVault();
  const certConfig = await azureKeyVaultProvider.configure(cert, certVault);
  assert.deepEqual(certVault.asked, []);
  assert.deepEqual(azureKeyVaultProvider.sandbox(certConfig).read, ["/work/project/certs/sp.pem"]);
  const fed = settings({
    ...sp,
    AZURE_FEDERATED_TOKEN_FILE: "/var/run/secrets/azure/tokens/azure-identity-token",
    AZURE_AUTHORITY_HOST: "https://login.microsoftonline.us/",
  });
  assert.deepEqual(await sandboxOf(azureKeyVaultProvider, fed), {
    net: ["myvault.vault.azure.net:443", "login.microsoftonline.us:443"],
    read: ["/var/run/secrets/azure/tokens/azure-identity-token"],
    run: [],
  });
  const plan = await azurePlan(fed, fixedVault());
  assert.equal(plan.auth.kind, "federated");
  if (plan.auth.kind === "federated") {
    assert.equal(
      plan.auth.tokenUrl,
      `https://login.microsoftonline.us/${TENANT}/oauth2/v2.0/token`,
    );
  }
});

Deno.test("configuration errors: URL, http, ids, concurrency, half an App Service setup", async () => {
  const bad: Record<string, string>[] = [
    {},
    { SECRETS_AZURE_KEY_VAULT_URL: "myvault" },
    { SECRETS_AZURE_KEY_VAULT_URL: "http://myvault.vault.azure.net" },
    { SECRETS_AZURE_KEY_VAULT_URL: "https://myvault.vault.azure.net/secrets" },
    { ...VAULT, SECRETS_AZURE_CONCURRENCY: "0" },
    { ...VAULT, SECRETS_AZURE_CONCURRENCY: "many" },
    { ...VAULT, SECRETS_AZURE_USE_MANAGED_IDENTITY: "maybe" },
    { ...VAULT, SECRETS_AZURE_USE_MANAGED_IDENTITY: "0", SECRETS_AZURE_CLIENT_ID: APP_ID },
    { ...VAULT, SECRETS_AZURE_USE_MANAGED_IDENTITY: "0", SECRETS_AZURE_TENANT_ID: TENANT },
    {
      ...VAULT,
      SECRETS_AZURE_USE_MANAGED_IDENTITY: "0",
      SECRETS_AZURE_TENANT_ID: TENANT,
      SECRETS_AZURE_CLIENT_ID: APP_ID,
      AZURE_AUTHORITY_HOST: "http://login.example.com",
    },
    { ...VAULT, IDENTITY_ENDPOINT: "http://localhost:4141/msi/token" },
  ];
  for (const env of bad) {
    await assert.rejects(
      async () => await configured(azureKeyVaultProvider, settings(env)),
      kindOf("config"),
      JSON.stringify(env),
    );
  }
  await assert.rejects(
    async () => await configured(azureKeyVaultProvider, settings(VAULT, { selection: ["A.B"] })),
    /not a Key Vault secret name/,
  );
  // Loopback may use plain http (tests, local emulators).
  await configured(
    azureKeyVaultProvider,
    settings({ SECRETS_AZURE_KEY_VAULT_URL: "http://127.0.0.1:8443" }),
  );
});

Deno.test("the token resource follows the vault's cloud", () => {
  const r = (url: string) => vaultResource(new URL(url));
  assert.equal(r("https://a.vault.azure.net"), "https://vault.azure.net");
  assert.equal(r("https://a.vault.azure.cn"), "https://vault.azure.cn");
  assert.equal(r("https://a.vault.usgovcloudapi.net"), "https://vault.usgovcloudapi.net");
  assert.equal(r("http://127.0.0.1:8080"), "https://vault.azure.net");
});

Deno.test("map: dashes separate levels, after the prefix is stripped", () => {
  const entries = azureKeyVaultProvider.map(
    { name: "PROD-SNOWFLAKE-TRANSFORM-USERNAME", value: "u" },
    settings(VAULT, { stripPrefix: "PROD-" }),
  );
  assert.deepEqual(entries.map((e) => e.path), [["SNOWFLAKE", "TRANSFORM", "USERNAME"]]);
});

Deno.test("token cache: many concurrent 401s share one refresh", async () => {
  let n = 0;
  const cache = createTokenCache(async () => {
    await new Promise((r) => setTimeout(r, 5));
    n++;
    return { token: `token-${n}`, expiresAt: Date.now() + 3600_000 };
  });
  const first = await Promise.all(Array.from({ length: 10 }, () => cache.get()));
  assert.deepEqual(new Set(first), new Set(["token-1"]));
  const fresh = await Promise.all(first.map((stale) => cache.refresh(stale)));
  assert.deepEqual(new Set(fresh), new Set(["token-2"]));
  assert.equal(cache.requests, 2);
  // A late caller still holding the old token gets the fresh one without a new request.
  assert.equal(await cache.refresh("token-1"), "token-2");
  assert.equal(cache.requests, 2);
});

Deno.test("token cache: a token about to expire is replaced", async () => {
  let n = 0;
  const cache = createTokenCache(() => {
    n++;
    return Promise.resolve({
      token: `t${n}`,
      expiresAt: Date.now() + (n === 1 ? 10_000 : 3600_000),
    });
  });
  assert.equal(await cache.get(), "t1"); // just issued: used once as it is
  assert.equal(await cache.get(), "t2"); // under a minute left: replaced
  assert.equal(await cache.get(), "t2");
});

async function postToken(
  handler: ReturnType<typeof azureIdentityFake>["handler"],
  form: Record<string, string>,
  tenant = TENANT,
) {
  const response = await handler(
    new Request(`http://127.0.0.1:1/${tenant}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form),
    }),
    { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 } },
  );
  return { status: response.status, body: await response.json() };
}

Deno.test("certificate assertion: PS256 with x5t#S256, accepted only by the right app and audience", async () => {
  const cert = await makeTestCertificate();
  const identity = azureIdentityFake({
    tenant: TENANT,
    apps: [{ clientId: APP_ID, certificatePem: cert.certPem }],
  });
  // PKCS#1 ("RSA PRIVATE KEY") works too: unwrap the PKCS#8 the test key came in.
  const raw = parsePem(cert.keyPem)[0].der;
  const pkcs1 = raw.slice(26); // SEQ hdr(4) + version(3) + algorithm(15) + OCTET STRING hdr(4)
  const loaded = await parseClientCertificate(
    toPem("RSA PRIVATE KEY", pkcs1) + cert.certPem,
    "client.pem",
  );
  const audience = `http://127.0.0.1:1/${TENANT}/oauth2/v2.0/token`;
  const assertion = await clientAssertion(loaded, APP_ID, audience);
  const header = decodeProtectedHeader(assertion);
  assert.equal(header.alg, "PS256");
  assert.equal(header["x5t#S256"], loaded.thumbprint);
  const form = {
    grant_type: "client_credentials",
    client_id: APP_ID,
    scope: "https://vault.azure.net/.default",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
  };
  const ok = await postToken(identity.handler, { ...form, client_assertion: assertion });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.ok(await identity.verify(ok.body.access_token));
  const wrongAud = await clientAssertion(loaded, APP_ID, "https://login.microsoftonline.com/x");
  const refused = await postToken(identity.handler, { ...form, client_assertion: wrongAud });
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error, "invalid_client");
  const tampered = assertion.slice(0, -4) + (assertion.endsWith("AAAA") ? "BBBB" : "AAAA");
  assert.equal(
    (await postToken(identity.handler, { ...form, client_assertion: tampered })).status,
    401,
  );
  const wrongScope = await postToken(identity.handler, {
    ...form,
    client_assertion: assertion,
    scope: "https://graph.microsoft.com/.default",
  });
  assert.equal(wrongScope.body.error, "invalid_scope");
  const wrongTenant = await postToken(
    identity.handler,
    { ...form, client_assertion: assertion },
    "other",
  );
  assert.match(wrongTenant.body.error_description, /^AADSTS90002/);
});

Deno.test("certificate files: encrypted keys and missing parts are configuration errors", async () => {
  const cert = await makeTestCertificate();
  await assert.rejects(parseClientCertificate(cert.keyPem, "a.pem"), /no "BEGIN CERTIFICATE"/);
  await assert.rejects(parseClientCertificate(cert.certPem, "a.pem"), /no RSA private key/);
  await assert.rejects(
    parseClientCertificate(
      cert.certPem + toPem("ENCRYPTED PRIVATE KEY", new Uint8Array(8)),
      "a.pem",
    ),
    /encrypted/,
  );
});

Deno.test("Key Vault fake follows the REST reference: api-version, challenge, tokens, errors, paging", async () => {
  const world = startAzure({}, {
    secrets: [
      ...Array.from({ length: 30 }, (_, i) => ({ name: `S-${i}`, value: `v${i}` })),
      { name: "OFF", value: "x", enabled: false },
    ],
    access: FULL_ACCESS,
  });
  try {
    const base = world.kvServer.url;
    const tokenResponse = await fetch(
      `${world.identityServer.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`,
      { headers: { Metadata: "true" } },
    );
    const { access_token: token } = await tokenResponse.json();
    const auth = { Authorization: `Bearer ${token}` };

    const noVersion = await fetch(`${base}/secrets`, { headers: auth });
    assert.equal(noVersion.status, 400);
    assert.equal((await noVersion.json()).error.code, "BadParameter");

    const anonymous = await fetch(`${base}/secrets?api-version=7.6`);
    assert.equal(anonymous.status, 401);
    assert.equal(
      anonymous.headers.get("www-authenticate"),
      `Bearer authorization="https://login.microsoftonline.com/${TENANT}", resource="https://vault.azure.net"`,
    );
    assert.equal((await anonymous.json()).error.code, "Unauthorized");

    const forged = await fetch(`${base}/secrets?api-version=7.6`, {
      headers: { Authorization: `Bearer ${token.slice(0, -2)}xx` },
    });
    assert.equal(forged.status, 401);
    await forged.body?.cancel();

    const page1 = await (await fetch(`${base}/secrets?api-version=7.6`, { headers: auth })).json();
    assert.equal(page1.value.length, 25);
    assert.match(page1.value[0].id, /\/secrets\/OFF$/);
    assert.equal(page1.value[0].attributes.enabled, false);
    const page2 = await (await fetch(page1.nextLink, { headers: auth })).json();
    assert.equal(page2.value.length, 6);
    assert.equal(page2.nextLink, null);

    const tooMany = await fetch(`${base}/secrets?api-version=7.6&maxresults=26`, { headers: auth });
    assert.equal(tooMany.status, 400);
    await tooMany.body?.cancel();

    const disabled = await fetch(`${base}/secrets/OFF?api-version=7.6`, { headers: auth });
    assert.equal(disabled.status, 403);
    assert.deepEqual(await disabled.json(), {
      error: {
        code: "Forbidden",
        message: "Operation get is not allowed on a disabled secret.",
        innererror: { code: "SecretDisabled" },
      },
    });
    const missing = await fetch(`${base}/secrets/NOPE?api-version=7.6`, { headers: auth });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "SecretNotFound");

    const got = await (await fetch(`${base}/secrets/S-3?api-version=7.6`, { headers: auth }))
      .json();
    assert.equal(got.value, "v3");
    assert.match(got.id, /\/secrets\/S-3\/[0-9a-f]{32}$/);
    assert.equal(got.attributes.enabled, true);
  } finally {
    await world.close();
  }
});

Deno.test("identity fakes refuse what Azure refuses: IMDS without Metadata, App Service without its header", async () => {
  const world = startAzure({ identityHeader: "hdr-123456" }, { secrets: [], access: {} });
  try {
    const imds =
      `${world.identityServer.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`;
    const noHeader = await fetch(imds);
    assert.equal(noHeader.status, 400);
    assert.equal(
      (await noHeader.json()).error_description,
      "Required metadata header not specified",
    );
    const unknown = await fetch(`${imds}&client_id=nobody`, { headers: { Metadata: "true" } });
    assert.equal((await unknown.json()).error_description, "Identity not found");
    const app =
      `${world.identityServer.url}/msi/token?api-version=2019-08-01&resource=https://vault.azure.net`;
    const wrong = await fetch(app, { headers: { "X-IDENTITY-HEADER": "nope" } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const oldVersion = await fetch(app.replace("2019-08-01", "2017-09-01"), {
      headers: { "X-IDENTITY-HEADER": "hdr-123456" },
    });
    assert.equal(oldVersion.status, 400);
    await oldVersion.body?.cancel();
  } finally {
    await world.close();
  }
});

async function context(
  env: Record<string, string>,
  read: FetchedSecret[],
  lines: string[],
): Promise<FetchContext<AzurePlan>> {
  return {
    settings: settings(env),
    config: await configured(azureKeyVaultProvider, settings(env)),
    signal: new AbortController().signal,
    log: {
      info: (m) => lines.push(m),
      warn: (m) => lines.push(m),
      debug: (m) => lines.push(m),
    },
    emit: (s) => read.push(s),
    sensitive: () => {},
  };
}

Deno.test("a nextLink to another host is refused before the token is sent there", async () => {
  const identity = azureIdentityFake({ tenant: TENANT, systemIdentity: MI_ID });
  const idServer = startFake(identity.handler);
  const evil = startFake(() => Response.json({ value: [] }));
  const kv = startFake(async (request) => {
    const claims = await identity.verify(request.headers.get("authorization")?.slice(7) ?? "");
    if (!claims) return new Response(null, { status: 401 });
    return Response.json({
      value: [],
      nextLink: `${evil.url}/secrets?api-version=7.6&$skiptoken=x`,
    });
  });
  try {
    const read: FetchedSecret[] = [];
    const ctx = await context(
      {
        SECRETS_AZURE_KEY_VAULT_URL: kv.url,
        AZURE_POD_IDENTITY_AUTHORITY_HOST: idServer.url,
      },
      read,
      [],
    );
    await assert.rejects(fetchSecrets(ctx), /nextLink to another host/);
    assert.equal(evil.requests, 0);
  } finally {
    await Promise.all([idServer.close(), evil.close(), kv.close()]);
  }
});

Deno.test("IMDS 5xx and network errors are retried; the token is then reused", async () => {
  const identity = azureIdentityFake({ tenant: TENANT, systemIdentity: MI_ID });
  let failures = 2;
  const idServer = startFake((request, info) => {
    if (failures-- > 0) return new Response("busy", { status: 503 });
    return identity.handler(request, info);
  });
  const world = startAzure({}, { secrets: [{ name: "A", value: "a-val" }], access: FULL_ACCESS }, {
    verify: identity.verify,
  });
  try {
    const read: FetchedSecret[] = [];
    const ctx = await context(
      {
        SECRETS_AZURE_KEY_VAULT_URL: world.kvServer.url,
        AZURE_POD_IDENTITY_AUTHORITY_HOST: idServer.url,
      },
      read,
      [],
    );
    await fetchSecrets(ctx);
    assert.deepEqual(read.map((s) => [s.name, s.value]), [["A", "a-val"]]);
    assert.equal(identity.counters.imds, 1);
    assert.equal(idServer.requests, 3);
  } finally {
    await idServer.close();
    await world.close();
  }
});
