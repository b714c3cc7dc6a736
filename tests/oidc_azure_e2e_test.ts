/**
 * Azure Key Vault without a client secret: a service principal's federated credential fed
 * by the CI system's OIDC token (GitHub Actions' endpoint with audience
 * `api://AzureADTokenExchange`, or `SECRETS_OIDC_TOKEN`), the precedence of token sources,
 * an expired token failing before any request, and the sandbox that follows.
 *
 * @module
 */

import assert from "node:assert/strict";
import { generateKeyPair, SignJWT } from "jose";
import { assertNoLeak } from "./support/assertions.ts";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { runTool } from "./support/run_tool.ts";
import { tempVault } from "./support/temp.ts";
import { readVaultDoc } from "./support/vault.ts";
import { sandboxOf, testSettings } from "./support/settings.ts";
import { APP_ID, federatedEnv, FULL_ACCESS, startAzure, TENANT } from "./support/azure.ts";
import { startFake } from "./fakes/server.ts";
import { FEDERATION_AUDIENCE } from "./fakes/azure_identity.ts";
import { GITHUB_ISSUER, GITHUB_SUBJECT, githubOidcFake } from "./fakes/github_oidc.ts";
import { azureKeyVaultProvider } from "../providers/azure_key_vault/mod.ts";

const SECRETS = [
  { name: "DB-PASSWORD", value: `db-${crypto.randomUUID()}` },
  { name: "API-TOKEN", value: `api-${crypto.randomUUID()}` },
];
const EXPECTED = { DB: { PASSWORD: SECRETS[0].value }, API: { TOKEN: SECRETS[1].value } };
const GITLAB_ISSUER = "https://gitlab.example.com";
const GITLAB_SUBJECT = "project_path:group/project:ref_type:branch:ref:main";

async function gitlabToken(
  key: CryptoKey,
  { subject = GITLAB_SUBJECT, expiresIn = 300 } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({})
    .setProtectedHeader({ alg: "ES256" })
    .setIssuer(GITLAB_ISSUER)
    .setSubject(subject)
    .setAudience(FEDERATION_AUDIENCE)
    .setIssuedAt(now - 10)
    .setExpirationTime(now + expiresIn)
    .sign(key);
}

Deno.test("azure oidc: GitHub Actions' token (audience api://AzureADTokenExchange) as the federated assertion", async () => {
  const github = await githubOidcFake();
  await using world = startAzure({
    apps: [{
      clientId: APP_ID,
      federated: { issuer: GITHUB_ISSUER, subject: GITHUB_SUBJECT, key: github.publicKey },
    }],
  }, { secrets: SECRETS, access: FULL_ACCESS });
  await using githubServer = serve(github.handler);
  await using tmp = await tempVault();
  const result = await runTool(["--verbose"], {
    ...federatedEnv(world, tmp.vault),
    ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(githubServer.url),
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await readVaultDoc(tmp.vault), EXPECTED);
  assert.deepEqual(github.audiences, ["api://AzureADTokenExchange"]);
  assert.equal(world.identity.counters.issued, 1);
  assertNoLeak(result, [
    ...SECRETS.map((s) => s.value),
    github.requestToken,
    ...github.issued,
    ...world.identity.seen,
  ]);
});

Deno.test("azure oidc: SECRETS_OIDC_TOKEN (GitLab id_tokens); a subject the credential does not name is refused", async () => {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  await using world = startAzure({
    apps: [{
      clientId: APP_ID,
      federated: { issuer: GITLAB_ISSUER, subject: GITLAB_SUBJECT, key: publicKey },
    }],
  }, { secrets: SECRETS, access: FULL_ACCESS });
  const token = await gitlabToken(privateKey);
  await using tmp = await tempVault();
  const ok = await runTool([], { ...federatedEnv(world, tmp.vault), SECRETS_OIDC_TOKEN: token });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(await readVaultDoc(tmp.vault), EXPECTED);
  assertNoLeak(ok, [...SECRETS.map((s) => s.value), token, ...world.identity.seen]);

  const other = await gitlabToken(privateKey, { subject: "project_path:group/other:ref:main" });
  await using kept = await tempVault("KEEP: 1\n");
  const snap = await snapshot(kept.vault);
  await assertCleanFailure(
    await runTool([], { ...federatedEnv(world, kept.vault), SECRETS_OIDC_TOKEN: other }),
    snap,
    {
      code: 3,
      line:
        /Microsoft Entra token for .* was refused \(invalid_request: AADSTS70021: No matching federated identity record/,
      secrets: [other],
    },
  );
});

Deno.test("azure oidc: precedence is AZURE_FEDERATED_TOKEN_FILE, SECRETS_OIDC_TOKEN, GitHub's endpoint, then the client secret", async () => {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const github = await githubOidcFake();
  await using githubServer = serve(github.handler);
  const gitlab = { issuer: GITLAB_ISSUER, subject: GITLAB_SUBJECT, key: publicKey };
  const fromGithub = { issuer: GITHUB_ISSUER, subject: GITHUB_SUBJECT, key: github.publicKey };
  const githubEnv = {
    ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(githubServer.url),
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
  };
  const fileToken = await gitlabToken(privateKey);
  const badToken = await gitlabToken(privateKey, { subject: "not-the-subject" });
  // Each case trusts only the source it expects; using any other would be refused.
  const cases: {
    what: string;
    trust: typeof gitlab;
    env: (dir: string) => Record<string, string>;
    github: number;
  }[] = [
    {
      what: "the file beats SECRETS_OIDC_TOKEN and GitHub",
      trust: gitlab,
      env: (dir) => ({
        AZURE_FEDERATED_TOKEN_FILE: `${dir}/token`,
        SECRETS_OIDC_TOKEN: badToken,
        ...githubEnv,
      }),
      github: 0,
    },
    {
      what: "SECRETS_OIDC_TOKEN beats GitHub",
      trust: gitlab,
      env: () => ({ SECRETS_OIDC_TOKEN: fileToken, ...githubEnv }),
      github: 0,
    },
    {
      what: "GitHub beats the client secret in the vault",
      trust: fromGithub,
      env: () => githubEnv,
      github: 1,
    },
  ];
  for (const c of cases) {
    await using world = startAzure({
      apps: [{ clientId: APP_ID, secret: "never-used-client-secret", federated: c.trust }],
    }, { secrets: SECRETS, access: FULL_ACCESS });
    await using tmp = await tempVault(
      "AZURE:\n  DEFAULT:\n    CLIENT_SECRET: wrong-client-secret\n",
    );
    await Deno.writeTextFile(`${tmp.dir}/token`, fileToken);
    const before = github.issued.length;
    const result = await runTool([], { ...federatedEnv(world, tmp.vault), ...c.env(tmp.dir) });
    assert.equal(result.code, 0, `${c.what}: ${result.stderr}`);
    assert.equal(github.issued.length - before, c.github, c.what);
    assertNoLeak(result, [fileToken, badToken, github.requestToken, "wrong-client-secret"]);
  }
});

Deno.test("azure oidc: an expired SECRETS_OIDC_TOKEN fails before any request reaches a fake", async () => {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const github = await githubOidcFake();
  await using githubServer = serve(github.handler);
  await using world = startAzure({
    apps: [{
      clientId: APP_ID,
      federated: { issuer: GITLAB_ISSUER, subject: GITLAB_SUBJECT, key: publicKey },
    }],
  }, { secrets: SECRETS, access: FULL_ACCESS });
  const expired = await gitlabToken(privateKey, { expiresIn: -30 });
  await using tmp = await tempVault("KEEP: 1\n");
  const snap = await snapshot(tmp.vault);
  const result = await runTool([], {
    ...federatedEnv(world, tmp.vault),
    SECRETS_OIDC_TOKEN: expired,
    ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(githubServer.url),
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
  });
  await assertCleanFailure(result, snap, {
    code: 3,
    line: /the JWT in SECRETS_OIDC_TOKEN expired at/,
    secrets: [expired],
  });
  assert.deepEqual(
    [world.identityServer.requests, world.kvServer.requests, githubServer.requests],
    [0, 0, 0],
  );
});

Deno.test("azure oidc sandbox: GitHub's endpoint joins the hosts only when the federated token comes from it", async () => {
  const base = {
    SECRETS_AZURE_KEY_VAULT_URL: "https://myvault.vault.azure.net",
    ACTIONS_ID_TOKEN_REQUEST_URL:
      "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0",
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-token",
  };
  const sp = {
    ...base,
    SECRETS_AZURE_USE_MANAGED_IDENTITY: "0",
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: APP_ID,
  };
  assert.deepEqual(await sandboxOf(azureKeyVaultProvider, testSettings({ env: base })), {
    net: ["myvault.vault.azure.net:443", "169.254.169.254:80"],
    read: [],
    run: [],
  });
  assert.deepEqual(await sandboxOf(azureKeyVaultProvider, testSettings({ env: sp })), {
    net: [
      "myvault.vault.azure.net:443",
      "login.microsoftonline.com:443",
      "pipelines.actions.githubusercontent.com:443",
    ],
    read: [],
    run: [],
  });
  const gitlab = {
    ...sp,
    SECRETS_OIDC_TOKEN: await gitlabToken((await generateKeyPair("ES256")).privateKey),
  };
  assert.deepEqual((await sandboxOf(azureKeyVaultProvider, testSettings({ env: gitlab }))).net, [
    "myvault.vault.azure.net:443",
    "login.microsoftonline.com:443",
  ]);
});

/** A fake server stopped at the end of the scope. */
function serve(
  handler: Parameters<typeof startFake>[0],
): ReturnType<typeof startFake> & AsyncDisposable {
  const fake = startFake(handler);
  return Object.assign(fake, { [Symbol.asyncDispose]: () => fake.close() });
}
