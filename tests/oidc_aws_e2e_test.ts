/**
 * AWS without stored keys: web identity from the CI system's OIDC token (GitHub Actions'
 * endpoint, `SECRETS_OIDC_TOKEN`), the token precedence, an expired token failing before
 * any request, and role chaining with STS `AssumeRole` from every kind of base credentials.
 *
 * @module
 */

import assert from "node:assert/strict";
import { generateKeyPair, SignJWT } from "jose";
import { assertNoLeak } from "./support/assertions.ts";
import { assertCleanFailure, snapshot } from "./support/failure.ts";
import { runTool } from "./support/run_tool.ts";
import { tempVault } from "./support/temp.ts";
import { at, readVaultDoc } from "./support/vault.ts";
import { ACCESS_KEY_ID, SECRET_KEY, testKeys, vaultWithKeys } from "./support/aws.ts";
import { fakesWorld } from "./support/world.ts";
import { fixedVault, testSettings } from "./support/settings.ts";
import { awsSandbox, configureAws } from "../providers/aws/config.ts";
import { FakeKeyStore } from "./fakes/aws_sigv4.ts";
import { type FakeSecret, secretsManagerFake } from "./fakes/aws_secrets_manager.ts";
import { stsFake } from "./fakes/aws_sts.ts";
import { GITHUB_ISSUER, GITHUB_SUBJECT, githubOidcFake } from "./fakes/github_oidc.ts";

const ROLE = "arn:aws:iam::123456789012:role/ci-secrets";
const CHAINED = "arn:aws:iam::210987654321:role/cross-account-reader";
const EXTERNAL_ID = "ext-7f3a-secrets";

function secrets(count: number): FakeSecret[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `oidc/s${i}`,
    string: `oidc-value-${i}-${crypto.randomUUID()}`,
  }));
}

async function checkVault(vault: string, seeded: FakeSecret[]): Promise<void> {
  const doc = await readVaultDoc(vault);
  assert.deepEqual(
    doc,
    { oidc: Object.fromEntries(seeded.map((s) => [s.name.split("/")[1], s.string])) },
  );
}

/** A GitLab-style `id_tokens:` JWT signed with `key`, for STS's OIDC provider. */
async function gitlabToken(key: CryptoKey, expiresIn = 300, audience = "sts.amazonaws.com") {
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({ project_path: "group/project" })
    .setProtectedHeader({ alg: "ES256" })
    .setIssuer("https://gitlab.example.com")
    .setSubject("project_path:group/project:ref_type:branch:ref:main")
    .setAudience(audience)
    .setIssuedAt(now - 10)
    .setExpirationTime(now + expiresIn)
    .sign(key);
}

Deno.test("aws oidc: GitHub Actions' token endpoint (audience sts.amazonaws.com) to web identity", async () => {
  const keys = testKeys();
  const github = await githubOidcFake();
  const sts = stsFake(new Map(), keys, {
    oidc: {
      key: github.publicKey,
      issuer: GITHUB_ISSUER,
      audience: "sts.amazonaws.com",
      roles: new Map([[ROLE, GITHUB_SUBJECT]]),
    },
  });
  const seeded = secrets(3);
  const sm = secretsManagerFake(seeded, keys);
  await using world = fakesWorld([sm.handler, sts.handler, github.handler]);
  const [smFake, stsServer, githubServer] = world.fakes;
  await using tmp = await tempVault();
  const result = await runTool(["--verbose"], {
    SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
    SECRETS_VAULT_PATH: tmp.vault,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
    AWS_ENDPOINT_URL_STS: stsServer.url,
    AWS_ROLE_ARN: ROLE,
    ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(githubServer.url),
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
  });
  assert.equal(result.code, 0, result.stderr);
  await checkVault(tmp.vault, seeded);
  assert.deepEqual(github.audiences, ["sts.amazonaws.com"]);
  assert.equal(sts.assumed, 1);
  assert.match(result.stderr, new RegExp(`net=\\[[^\\]]*127\\.0\\.0\\.1:${githubServer.port}`));
  assertNoLeak(result, [...seeded.map((s) => s.string!), github.requestToken, ...github.issued]);
});

Deno.test("aws oidc: SECRETS_OIDC_TOKEN (GitLab id_tokens) to web identity; a wrong audience is refused", async () => {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const keys = testKeys();
  const sts = stsFake(new Map(), keys, {
    oidc: {
      key: publicKey,
      issuer: "https://gitlab.example.com",
      audience: "sts.amazonaws.com",
      roles: new Map([[ROLE, "project_path:group/project:ref_type:branch:ref:main"]]),
    },
  });
  const seeded = secrets(2);
  const sm = secretsManagerFake(seeded, keys);
  await using world = fakesWorld([sm.handler, sts.handler]);
  const [smFake, stsServer] = world.fakes;
  const env = (token: string, vault: string) => ({
    SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
    SECRETS_VAULT_PATH: vault,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
    AWS_ENDPOINT_URL_STS: stsServer.url,
    AWS_ROLE_ARN: ROLE,
    SECRETS_OIDC_TOKEN: token,
  });
  const token = await gitlabToken(privateKey);
  await using tmp = await tempVault();
  const result = await runTool([], env(token, tmp.vault));
  assert.equal(result.code, 0, result.stderr);
  await checkVault(tmp.vault, seeded);
  assertNoLeak(result, [...seeded.map((s) => s.string!), token]);

  const wrong = await gitlabToken(privateKey, 300, "https://gitlab.example.com");
  await using other = await tempVault("KEEP: 1\n");
  const snap = await snapshot(other.vault);
  await assertCleanFailure(await runTool([], env(wrong, other.vault)), snap, {
    code: 3,
    line:
      /AssumeRoleWithWebIdentity for .*ci-secrets was refused: InvalidIdentityToken.* token from SECRETS_OIDC_TOKEN/,
    secrets: [wrong],
  });
});

Deno.test("aws oidc: precedence is AWS_WEB_IDENTITY_TOKEN_FILE, then SECRETS_OIDC_TOKEN, then GitHub's endpoint", async () => {
  const { privateKey } = await generateKeyPair("ES256");
  const github = await githubOidcFake();
  const fileToken = await gitlabToken(privateKey);
  const envToken = await gitlabToken(privateKey);
  const keys = testKeys();
  // Only the token each case expects is trusted: a run that used another one fails.
  const trusted = new Map<string, string>();
  const sts = stsFake(trusted, keys);
  const sm = secretsManagerFake(secrets(1), keys);
  await using world = fakesWorld([sm.handler, sts.handler, github.handler]);
  const [smFake, stsServer, githubServer] = world.fakes;
  await using tmp = await tempVault();
  await Deno.writeTextFile(`${tmp.dir}/token`, fileToken);
  const base = {
    SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
    AWS_ENDPOINT_URL_STS: stsServer.url,
    AWS_ROLE_ARN: ROLE,
    ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(githubServer.url),
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
  };
  const cases: [string, Record<string, string>, string][] = [
    [
      "file",
      { AWS_WEB_IDENTITY_TOKEN_FILE: `${tmp.dir}/token`, SECRETS_OIDC_TOKEN: envToken },
      fileToken,
    ],
    ["SECRETS_OIDC_TOKEN", { SECRETS_OIDC_TOKEN: envToken }, envToken],
  ];
  for (const [what, extra, expected] of cases) {
    trusted.clear();
    trusted.set(expected, ROLE);
    await using run = await tempVault();
    const result = await runTool([], { ...base, ...extra, SECRETS_VAULT_PATH: run.vault });
    assert.equal(result.code, 0, `${what}: ${result.stderr}`);
    assert.equal(github.issued.length, 0, `${what}: GitHub's endpoint was not asked`);
    assertNoLeak(result, [fileToken, envToken, github.requestToken]);
  }
  // Only GitHub's endpoint left: it is asked, and its token is the one STS sees.
  trusted.clear();
  const seen: string[] = [];
  const spy = stsFake(new Map(), keys, {
    oidc: {
      key: github.publicKey,
      issuer: GITHUB_ISSUER,
      audience: "sts.amazonaws.com",
      roles: new Map([[ROLE, GITHUB_SUBJECT]]),
    },
  });
  await using spyWorld = fakesWorld([async (request) => {
    seen.push(new URLSearchParams(await request.clone().text()).get("WebIdentityToken") ?? "");
    return spy.handler(request);
  }]);
  await using last = await tempVault();
  const result = await runTool([], {
    ...base,
    AWS_ENDPOINT_URL_STS: spyWorld.fakes[0].url,
    SECRETS_VAULT_PATH: last.vault,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(seen, github.issued);
});

Deno.test("aws oidc: an expired SECRETS_OIDC_TOKEN fails before any request reaches a fake", async () => {
  const { privateKey } = await generateKeyPair("ES256");
  const expired = await gitlabToken(privateKey, -60);
  const keys = testKeys();
  const github = await githubOidcFake();
  const sts = stsFake(new Map([[expired, ROLE]]), keys);
  const sm = secretsManagerFake(secrets(1), keys);
  await using world = fakesWorld([sm.handler, sts.handler, github.handler]);
  const [smFake, stsServer, githubServer] = world.fakes;
  await using tmp = await tempVault("KEEP: 1\n");
  const snap = await snapshot(tmp.vault);
  const result = await runTool([], {
    SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
    SECRETS_VAULT_PATH: tmp.vault,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
    AWS_ENDPOINT_URL_STS: stsServer.url,
    AWS_ROLE_ARN: ROLE,
    SECRETS_OIDC_TOKEN: expired,
    ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(githubServer.url),
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
  });
  await assertCleanFailure(result, snap, {
    code: 3,
    line: /the JWT in SECRETS_OIDC_TOKEN expired at/,
    secrets: [expired, github.requestToken],
  });
  assert.deepEqual(world.fakes.map((fake) => fake.requests), [0, 0, 0]);
});

Deno.test("aws chain: SECRETS_AWS_ROLE_ARN assumed with AssumeRole (ExternalId) from env keys, then from vault keys", async () => {
  // STS checks the signature with the long-term keys; Secrets Manager knows only the
  // chained role's temporary keys, so a run that skipped the chain would be refused.
  const caller = testKeys();
  const keys = new FakeKeyStore();
  const sts = stsFake(new Map(), keys, {
    callerKeys: caller,
    roles: new Map([[CHAINED, { trusted: [ACCESS_KEY_ID], externalId: EXTERNAL_ID }]]),
  });
  const seeded = secrets(2);
  const sm = secretsManagerFake(seeded, keys);
  await using world = fakesWorld([sm.handler, sts.handler]);
  const [smFake, stsServer] = world.fakes;
  const base = {
    SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
    AWS_ENDPOINT_URL_STS: stsServer.url,
    SECRETS_AWS_ROLE_ARN: CHAINED,
    SECRETS_AWS_ROLE_EXTERNAL_ID: EXTERNAL_ID,
    SECRETS_AWS_ROLE_DURATION: "900",
  };
  await using envRun = await tempVault();
  const fromEnv = await runTool([], {
    ...base,
    SECRETS_VAULT_PATH: envRun.vault,
    AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
  });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  await checkVault(envRun.vault, seeded);
  await using vaultRun = await tempVault(vaultWithKeys());
  const fromVault = await runTool([], { ...base, SECRETS_VAULT_PATH: vaultRun.vault });
  assert.equal(fromVault.code, 0, fromVault.stderr);
  assert.equal(at(await readVaultDoc(vaultRun.vault), "oidc.s0"), seeded[0].string);
  assert.deepEqual(sts.chained, [
    { roleArn: CHAINED, signedBy: ACCESS_KEY_ID, durationSeconds: 900 },
    { roleArn: CHAINED, signedBy: ACCESS_KEY_ID, durationSeconds: 900 },
  ]);
  assertNoLeak(fromEnv, [SECRET_KEY, ...seeded.map((s) => s.string!)]);
  assertNoLeak(fromVault, [SECRET_KEY, ...seeded.map((s) => s.string!)]);
});

Deno.test("aws chain: a wrong ExternalId or an untrusted base is refused naming the role and the base source", async () => {
  const caller = testKeys().add("AKIAUNTRUSTED0000000", "untrusted-secret-key-0000000000000000000");
  const keys = new FakeKeyStore();
  const sts = stsFake(new Map(), keys, {
    callerKeys: caller,
    roles: new Map([[CHAINED, { trusted: [ACCESS_KEY_ID], externalId: EXTERNAL_ID }]]),
  });
  const sm = secretsManagerFake(secrets(1), keys);
  await using world = fakesWorld([sm.handler, sts.handler]);
  const [smFake, stsServer] = world.fakes;
  const rows: [string, Record<string, string>][] = [
    ["wrong external id", {
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      SECRETS_AWS_ROLE_EXTERNAL_ID: "not-the-external-id",
    }],
    ["untrusted base", {
      AWS_ACCESS_KEY_ID: "AKIAUNTRUSTED0000000",
      AWS_SECRET_ACCESS_KEY: "untrusted-secret-key-0000000000000000000",
      SECRETS_AWS_ROLE_EXTERNAL_ID: EXTERNAL_ID,
    }],
  ];
  for (const [what, extra] of rows) {
    await using tmp = await tempVault("KEEP: 1\n");
    const snap = await snapshot(tmp.vault);
    const result = await runTool([], {
      SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
      SECRETS_VAULT_PATH: tmp.vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
      AWS_ENDPOINT_URL_STS: stsServer.url,
      SECRETS_AWS_ROLE_ARN: CHAINED,
      ...extra,
    });
    await assertCleanFailure(result, snap, {
      code: 3,
      line:
        /AssumeRole of arn:aws:iam::210987654321:role\/cross-account-reader with AWS_ACCESS_KEY_ID from the environment was refused: AccessDenied/,
      secrets: [SECRET_KEY, "untrusted-secret-key-0000000000000000000"],
    });
    assert.equal(sm.calls.size, 0, what);
  }
});

Deno.test("aws chain: from GitHub web identity, refreshed before expiry during a long load", async () => {
  const keys = testKeys();
  const github = await githubOidcFake();
  const sts = stsFake(new Map(), keys, {
    lifetimeMs: 1500,
    oidc: {
      key: github.publicKey,
      issuer: GITHUB_ISSUER,
      audience: "sts.amazonaws.com",
      roles: new Map([[ROLE, GITHUB_SUBJECT]]),
    },
    roles: new Map(),
  });
  // The chained role trusts whatever temporary key web identity issued.
  const roles = new Map([[CHAINED, { trusted: [] as string[] }]]);
  const trusting = stsFake(new Map(), keys, { lifetimeMs: 1500, roles });
  const seeded = secrets(60);
  const sm = secretsManagerFake(seeded, keys, { deny: ["BatchGetSecretValue"] });
  await using world = fakesWorld([sm.handler, async (request) => {
    const form = new URLSearchParams(await request.clone().text());
    if (form.get("Action") !== "AssumeRole") return sts.handler(request);
    const id = /Credential=([^/]+)\//.exec(request.headers.get("authorization") ?? "")?.[1];
    roles.set(CHAINED, { trusted: id?.startsWith("ASIA") ? [id] : [] });
    return trusting.handler(request);
  }, github.handler], { latencyMs: 40 });
  const [smFake, stsServer, githubServer] = world.fakes;
  await using tmp = await tempVault();
  const result = await runTool([], {
    SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
    SECRETS_VAULT_PATH: tmp.vault,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
    AWS_ENDPOINT_URL_STS: stsServer.url,
    AWS_ROLE_ARN: ROLE,
    ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(githubServer.url),
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
    SECRETS_AWS_ROLE_ARN: CHAINED,
    SECRETS_AWS_CONCURRENCY: "2",
  });
  assert.equal(result.code, 0, result.stderr);
  await checkVault(tmp.vault, seeded);
  assert.ok(trusting.chained.length >= 2, `chained ${trusting.chained.length} times`);
  assert.ok(trusting.chained.every((c) => c.signedBy.startsWith("ASIA")));
  assert.equal(keys.expiredRejections, 0, "refreshed before expiry");
  assertNoLeak(result, [...github.issued, github.requestToken, ...seeded.map((s) => s.string!)]);
});

Deno.test("aws oidc sandbox: GitHub's endpoint and the chained role's STS join only when used", async () => {
  const github = {
    ACTIONS_ID_TOKEN_REQUEST_URL:
      "https://pipelines.actions.githubusercontent.com/x?api-version=2.0",
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-token",
  };
  const plan = async (env: Record<string, string>) =>
    awsSandbox(await configureAws(testSettings({ env }), fixedVault({}), "secretsmanager"));
  const sm = "secretsmanager.eu-west-2.amazonaws.com:443";
  const sts = "sts.eu-west-2.amazonaws.com:443";
  assert.deepEqual(await plan({ ...github, AWS_ROLE_ARN: ROLE }), {
    net: [sm, sts, "pipelines.actions.githubusercontent.com:443"],
    read: [],
    run: [],
  });
  const { privateKey } = await generateKeyPair("ES256");
  assert.deepEqual(
    (await plan({
      ...github,
      AWS_ROLE_ARN: ROLE,
      SECRETS_OIDC_TOKEN: await gitlabToken(privateKey),
    }))
      .net,
    [sm, sts],
  );
  // GitHub's variables alone (no AWS_ROLE_ARN) change nothing: the chain goes on to IMDS.
  assert.deepEqual((await plan(github)).net, [sm, "169.254.169.254:80"]);
  assert.deepEqual(
    (await plan({ AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY })).net,
    [sm],
  );
  assert.deepEqual(
    (await plan({
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      SECRETS_AWS_ROLE_ARN: CHAINED,
    })).net,
    [sm, sts],
  );
});

Deno.test("aws oidc: GitHub's endpoint refusing the request token fails with exit 3, before STS is asked", async () => {
  const keys = testKeys();
  const github = await githubOidcFake();
  const sts = stsFake(new Map(), keys);
  const sm = secretsManagerFake(secrets(1), keys);
  await using world = fakesWorld([sm.handler, sts.handler, github.handler]);
  const [smFake, stsServer, githubServer] = world.fakes;
  await using tmp = await tempVault("KEEP: 1\n");
  const snap = await snapshot(tmp.vault);
  await assertCleanFailure(
    await runTool([], {
      SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
      SECRETS_VAULT_PATH: tmp.vault,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: smFake.url,
      AWS_ENDPOINT_URL_STS: stsServer.url,
      AWS_ROLE_ARN: ROLE,
      ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(githubServer.url),
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "ghs_stale-request-token-0000",
    }),
    snap,
    {
      code: 3,
      line:
        /GitHub Actions OIDC token request to 127\.0\.0\.1:\d+ was refused \(HTTP 401\); give the job `permissions: id-token: write`/,
      secrets: ["ghs_stale-request-token-0000"],
    },
  );
  assert.deepEqual([github.refused, stsServer.requests, smFake.requests], [1, 0, 0]);
});
