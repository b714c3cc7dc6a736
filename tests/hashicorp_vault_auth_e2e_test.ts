/**
 * End-to-end tests of HashiCorp Vault authentication: token, userpass and JWT logins, the
 * order when several are configured, revoke-self on success and failure, and the local JWT
 * check that runs before any network call.
 */

import assert from "node:assert/strict";
import { readVaultDoc } from "./support/vault.ts";
import {
  ALL_VALUES,
  CREDENTIALS,
  jwtKeys,
  ROOT_TOKEN,
  seed,
  signJwt,
  startVault,
  USER_PASSWORD,
  VALUES,
  vaultEnv,
  vaultScenario,
  WEAK_PASSWORD,
} from "./support/hashicorp_vault.ts";
import { assertNoLeak, assertOneErrorLine } from "./support/assertions.ts";
import { tempVault } from "./support/temp.ts";
import { runTool } from "./support/run_tool.ts";

const LEAKABLE = [...ALL_VALUES, ...CREDENTIALS];
const EXISTING = "EXISTING:\n  KEY: keep-me\n";
const TRANSFORM = {
  SNOWFLAKE: { TRANSFORM: { USERNAME: VALUES.transformUser, PASSWORD: VALUES.transformPassword } },
};
const ONE = { SECRETS_SELECTION: "secret/SNOWFLAKE/TRANSFORM" };
const CLAIMS = { project_id: "12345", ref: "main", user_email: "dev@example.com" };
const CI_USER = {
  SECRETS_HASHICORP_VAULT_USERNAME: "ci-user",
  SECRETS_HASHICORP_VAULT_PASSWORD: USER_PASSWORD,
};

Deno.test("userpass: logs in, reads with the issued token, revokes it at the end", async () => {
  await using hv = startVault(seed());
  const { server, vault } = hv;
  await using run = await vaultScenario(hv);
  await run.loads({ ...ONE, ...CI_USER }, () => [...LEAKABLE, ...vault.counters.issued], [
    "--verbose",
  ]);
  assert.deepEqual(await readVaultDoc(run.vault), TRANSFORM);
  assert.equal(vault.counters.logins.userpass, 1);
  assert.equal(vault.counters.issued.length, 1);
  assert.deepEqual(vault.counters.revoked, vault.counters.issued);
  assert.equal(server.log[0], "POST /v1/auth/userpass/login/ci-user");
  assert.equal(server.log.at(-1), "POST /v1/auth/token/revoke-self");
  // The revoked token is unusable afterwards.
  const after = await fetch(`${server.url}/v1/secret/data/SNOWFLAKE/TRANSFORM`, {
    headers: { "X-Vault-Token": vault.counters.issued[0] },
  });
  assert.equal(after.status, 403);
  await after.body?.cancel();
});

Deno.test("userpass: a wrong password fails with exit 3 and Vault's reason; vault unchanged", async () => {
  await using hv = startVault(seed());
  await using run = await vaultScenario(hv, EXISTING);
  await run.fails({ ...CI_USER, SECRETS_HASHICORP_VAULT_PASSWORD: "not-the-password-123" }, {
    code: 3,
    line: /userpass login for ci-user was refused \(HTTP 400\): invalid username or password/,
    secrets: [...LEAKABLE, "not-the-password-123"],
  });
  assert.equal(hv.vault.counters.failedLogins, 1);
});

Deno.test("a login token is revoked when the run fails after logging in", async () => {
  await using hv = startVault(seed());
  const { counters } = hv.vault;
  await using run = await vaultScenario(hv, EXISTING);
  await run.fails({
    SECRETS_HASHICORP_VAULT_USERNAME: "weak-user",
    SECRETS_HASHICORP_VAULT_PASSWORD: WEAK_PASSWORD,
  }, {
    code: 3,
    line: /denied "read" on secret\/data\/\S+ .*userpass login for weak-user/,
    secrets: () => [...LEAKABLE, ...counters.issued],
  });
  assert.equal(counters.issued.length, 1);
  assert.deepEqual(counters.revoked, counters.issued);
});

Deno.test("a login token is revoked when the run hits SECRETS_TIMEOUT", async () => {
  await using hv = startVault(seed(), { kvLatencyMs: 10_000 });
  const { counters } = hv.vault;
  await using run = await vaultScenario(hv, EXISTING);
  const started = performance.now();
  await run.fails({ ...CI_USER, SECRETS_TIMEOUT: "2" }, {
    code: 4,
    line: /stopped at the overall deadline \(SECRETS_TIMEOUT\)/,
    secrets: () => [...LEAKABLE, ...counters.issued],
  });
  assert.equal(counters.issued.length, 1);
  assert.deepEqual(counters.revoked, counters.issued);
  assert.ok(performance.now() - started < 6000);
});

Deno.test("JWT: CI_JOB_JWT with the role logs in (signature, exp, bound claims checked), then revokes", async () => {
  const { privateKey, publicKey } = await jwtKeys();
  const jwt = await signJwt(privateKey, CLAIMS);
  await using hv = startVault(seed(publicKey));
  const { counters } = hv.vault;
  await using run = await vaultScenario(hv);
  await run.loads(
    { ...ONE, SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role", CI_JOB_JWT: jwt },
    () => [...LEAKABLE, jwt, ...counters.issued],
  );
  assert.deepEqual(await readVaultDoc(run.vault), TRANSFORM);
  assert.equal(counters.logins.jwt, 1);
  assert.deepEqual(counters.revoked, counters.issued);
  assert.equal(hv.server.log[0], "POST /v1/auth/jwt/login");
});

Deno.test("JWT: VAULT_ID_TOKEN on a custom auth mount, in a namespace", async () => {
  const { privateKey, publicKey } = await jwtKeys();
  const jwt = await signJwt(privateKey, CLAIMS);
  const data = seed(publicKey);
  data.jwt!.mount = "gitlab";
  data.jwt!.roles["team-role"] = {
    boundClaims: { project_id: "12345" },
    policies: ["reader"],
    namespace: "team-a",
  };
  await using hv = startVault(data);
  const { counters } = hv.vault;
  await using run = await vaultScenario(hv);
  await run.loads({
    SECRETS_HASHICORP_VAULT_JWT_ROLE: "team-role",
    SECRETS_HASHICORP_VAULT_JWT_MOUNT: "gitlab",
    VAULT_NAMESPACE: "team-a",
    VAULT_ID_TOKEN: jwt,
  }, () => [...LEAKABLE, jwt, ...counters.issued]);
  assert.deepEqual(await readVaultDoc(run.vault), {
    SNOWFLAKE: { TEAM: { PASSWORD: VALUES.teamPassword } },
  });
  assert.equal(hv.server.log[0], "POST /v1/auth/gitlab/login");
  assert.deepEqual([...counters.namespaces], ["team-a"]);
  assert.deepEqual(counters.revoked, counters.issued);
});

Deno.test("JWT: a claim outside the role's bound claims is refused with exit 3", async () => {
  const { privateKey, publicKey } = await jwtKeys();
  const jwt = await signJwt(privateKey, { ...CLAIMS, ref: "feature-x" });
  await using hv = startVault(seed(publicKey));
  await using run = await vaultScenario(hv, EXISTING);
  await run.fails(
    { SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role", SECRETS_HASHICORP_VAULT_JWT: jwt },
    {
      code: 3,
      line: /JWT login .*role ci-role.* refused \(HTTP 400\): error validating claims: claim "ref"/,
      secrets: [...LEAKABLE, jwt],
    },
  );
  assert.equal(hv.vault.counters.issued.length, 0);
});

Deno.test("JWT: a token signed by another key is refused by the fake", async () => {
  const { publicKey } = await jwtKeys();
  const other = await jwtKeys();
  const jwt = await signJwt(other.privateKey, CLAIMS);
  await using hv = startVault(seed(publicKey));
  await using run = await vaultScenario(hv);
  // No vault file before the run, and none after.
  await run.fails({ SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role", CI_JOB_JWT: jwt }, {
    code: 3,
    line: /refused \(HTTP 400\): error validating token/,
    secrets: [...LEAKABLE, jwt],
  });
  assert.equal(hv.vault.counters.failedLogins, 1);
});

Deno.test("JWT: an expired token is rejected before any network call", async () => {
  const { privateKey, publicKey } = await jwtKeys();
  const jwt = await signJwt(privateKey, CLAIMS, -60);
  await using hv = startVault(seed(publicKey));
  await using run = await vaultScenario(hv, EXISTING);
  await run.fails({
    SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role",
    CI_JOB_JWT: jwt,
    SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
  }, {
    code: 3,
    line: /the JWT in CI_JOB_JWT expired at \S+Z; JWT login was not attempted/,
    secrets: [...LEAKABLE, jwt],
  });
  assert.equal(hv.server.requests, 0);
});

Deno.test("JWT: a malformed token is a configuration error, before any network call", async () => {
  await using hv = startVault(seed());
  await using run = await vaultScenario(hv, EXISTING);
  const bogus = "not-a-jwt-at-all-but-secret-ish";
  await run.fails({
    SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role",
    SECRETS_HASHICORP_VAULT_JWT: bogus,
  }, {
    code: 2,
    line: /SECRETS_HASHICORP_VAULT_JWT is not a well-formed JWT/,
    secrets: [...LEAKABLE, bogus],
  });
  assert.equal(hv.server.requests, 0);
});

Deno.test("order when all are set: JWT first, then token, then userpass", async () => {
  const { privateKey, publicKey } = await jwtKeys();
  const jwt = await signJwt(privateKey, CLAIMS);
  await using hv = startVault(seed(publicKey));
  const { counters } = hv.vault;
  const leakable = () => [...LEAKABLE, jwt, ...counters.issued];
  const all = {
    ...ONE,
    SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role",
    CI_JOB_JWT: jwt,
    SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
    ...CI_USER,
  };
  // All three: JWT login only.
  await using first = await vaultScenario(hv);
  await first.loads(all, leakable);
  assert.deepEqual(counters.logins, { jwt: 1, userpass: 0 });
  assert.deepEqual(await readVaultDoc(first.vault), TRANSFORM);

  // Without the role: the token, no login, nothing revoked.
  const { SECRETS_HASHICORP_VAULT_JWT_ROLE: _role, ...noJwt } = all;
  await using second = await vaultScenario(hv);
  await second.loads(noJwt, leakable);
  assert.deepEqual(counters.logins, { jwt: 1, userpass: 0 });
  assert.equal(counters.revoked.length, 1);
  assert.ok(!counters.revoked.includes(ROOT_TOKEN));

  // Without the token either: userpass.
  const { SECRETS_HASHICORP_VAULT_TOKEN: _token, ...onlyUserpass } = noJwt;
  await using third = await vaultScenario(hv);
  await third.loads(onlyUserpass, leakable);
  assert.deepEqual(counters.logins, { jwt: 1, userpass: 1 });
  assert.equal(counters.revoked.length, 2);
  assert.deepEqual(await readVaultDoc(third.vault), TRANSFORM);
});

Deno.test("an unknown token fails with exit 3 and is not revoked", async () => {
  await using hv = startVault(seed());
  await using run = await vaultScenario(hv, EXISTING);
  const token = "hvs.unknownTokenNotIssuedByVault00";
  await run.fails({ SECRETS_HASHICORP_VAULT_TOKEN: token }, {
    code: 3,
    line:
      /permission denied.*the token in SECRETS_HASHICORP_VAULT_TOKEN, or check that the token is valid/,
    secrets: [...LEAKABLE, token],
  });
  assert.ok(!hv.server.log.includes("POST /v1/auth/token/revoke-self"));
  assert.deepEqual(hv.vault.counters.revoked, []);
});

Deno.test("missing credentials or URL are configuration errors naming the variables", async () => {
  await using tmp = await tempVault(EXISTING);
  const { vault: vaultPath } = tmp;
  const noAuth = await runTool([], vaultEnv("http://127.0.0.1:9", vaultPath));
  assert.equal(noAuth.code, 2, noAuth.stderr);
  assertOneErrorLine(noAuth, /needs credentials: SECRETS_HASHICORP_VAULT_JWT_ROLE/);
  const noUrl = await runTool([], {
    SECRETS_MANAGER: "HASHICORP_VAULT",
    SECRETS_VAULT_PATH: vaultPath,
    VAULT_TOKEN: ROOT_TOKEN,
  });
  assert.equal(noUrl.code, 2, noUrl.stderr);
  assertOneErrorLine(noUrl, /needs SECRETS_HASHICORP_VAULT_URL \(or VAULT_ADDR\)/);
  assertNoLeak(noUrl, [ROOT_TOKEN]);
  const roleNoJwt = await runTool(
    [],
    vaultEnv("http://127.0.0.1:9", vaultPath, {
      SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role",
    }),
  );
  assert.equal(roleNoJwt.code, 2, roleNoJwt.stderr);
  assertOneErrorLine(roleNoJwt, /JWT_ROLE is set but no JWT is/);
  assert.equal(await Deno.readTextFile(vaultPath), EXISTING);
});
