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
  WEAK_PASSWORD,
} from "./support/hashicorp_vault.ts";
import { assertNoLeak, assertOneErrorLine } from "./support/assertions.ts";
import { readBytes, tempVault } from "./support/temp.ts";
import { runTool } from "./support/run_tool.ts";

const LEAKABLE = [...ALL_VALUES, ...CREDENTIALS];
const EXISTING = "EXISTING:\n  KEY: keep-me\n";
const TRANSFORM = {
  SNOWFLAKE: { TRANSFORM: { USERNAME: VALUES.transformUser, PASSWORD: VALUES.transformPassword } },
};
const ONE = { SECRETS_SELECTION: "secret/SNOWFLAKE/TRANSFORM" };
const CLAIMS = { project_id: "12345", ref: "main", user_email: "dev@example.com" };

Deno.test("userpass: logs in, reads with the issued token, revokes it at the end", async () => {
  const { server, vault } = startVault(seed());
  try {
    await using tmp = await tempVault();
    const { vault: vaultPath } = tmp;
    const result = await runTool(
      ["--verbose"],
      vaultEnv(server.url, vaultPath, {
        ...ONE,
        SECRETS_HASHICORP_VAULT_USERNAME: "ci-user",
        SECRETS_HASHICORP_VAULT_PASSWORD: USER_PASSWORD,
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, [...LEAKABLE, ...vault.counters.issued]);
    assert.deepEqual(await readVaultDoc(vaultPath), TRANSFORM);
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
  } finally {
    await server.close();
  }
});

Deno.test("userpass: a wrong password fails with exit 3 and Vault's reason; vault unchanged", async () => {
  const { server, vault } = startVault(seed());
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const before = await readBytes(vaultPath);
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_USERNAME: "ci-user",
        SECRETS_HASHICORP_VAULT_PASSWORD: "not-the-password-123",
      }),
    );
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(
      result,
      /userpass login for ci-user was refused \(HTTP 400\): invalid username or password/,
    );
    assertNoLeak(result, [...LEAKABLE, "not-the-password-123"]);
    assert.deepEqual(await readBytes(vaultPath), before);
    assert.equal(vault.counters.failedLogins, 1);
  } finally {
    await server.close();
  }
});

Deno.test("a login token is revoked when the run fails after logging in", async () => {
  const { server, vault } = startVault(seed());
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const before = await readBytes(vaultPath);
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_USERNAME: "weak-user",
        SECRETS_HASHICORP_VAULT_PASSWORD: WEAK_PASSWORD,
      }),
    );
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(result, /denied "read" on secret\/data\/\S+ .*userpass login for weak-user/);
    assertNoLeak(result, [...LEAKABLE, ...vault.counters.issued]);
    assert.deepEqual(await readBytes(vaultPath), before);
    assert.equal(vault.counters.issued.length, 1);
    assert.deepEqual(vault.counters.revoked, vault.counters.issued);
  } finally {
    await server.close();
  }
});

Deno.test("a login token is revoked when the run hits SECRETS_TIMEOUT", async () => {
  const { server, vault } = startVault(seed(), { kvLatencyMs: 10_000 });
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const before = await readBytes(vaultPath);
    const started = performance.now();
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_USERNAME: "ci-user",
        SECRETS_HASHICORP_VAULT_PASSWORD: USER_PASSWORD,
        SECRETS_TIMEOUT: "2",
      }),
    );
    assert.equal(result.code, 4, result.stderr);
    assertOneErrorLine(result, /stopped at the overall deadline \(SECRETS_TIMEOUT\)/);
    assertNoLeak(result, [...LEAKABLE, ...vault.counters.issued]);
    assert.deepEqual(await readBytes(vaultPath), before);
    assert.equal(vault.counters.issued.length, 1);
    assert.deepEqual(vault.counters.revoked, vault.counters.issued);
    assert.ok(performance.now() - started < 6000);
  } finally {
    await server.close();
  }
});

Deno.test("JWT: CI_JOB_JWT with the role logs in (signature, exp, bound claims checked), then revokes", async () => {
  const { privateKey, publicKey } = await jwtKeys();
  const jwt = await signJwt(privateKey, CLAIMS);
  const { server, vault } = startVault(seed(publicKey));
  try {
    await using tmp = await tempVault();
    const { vault: vaultPath } = tmp;
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        ...ONE,
        SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role",
        CI_JOB_JWT: jwt,
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, [...LEAKABLE, jwt, ...vault.counters.issued]);
    assert.deepEqual(await readVaultDoc(vaultPath), TRANSFORM);
    assert.equal(vault.counters.logins.jwt, 1);
    assert.deepEqual(vault.counters.revoked, vault.counters.issued);
    assert.equal(server.log[0], "POST /v1/auth/jwt/login");
  } finally {
    await server.close();
  }
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
  const { server, vault } = startVault(data);
  try {
    await using tmp = await tempVault();
    const { vault: vaultPath } = tmp;
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_JWT_ROLE: "team-role",
        SECRETS_HASHICORP_VAULT_JWT_MOUNT: "gitlab",
        VAULT_NAMESPACE: "team-a",
        VAULT_ID_TOKEN: jwt,
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assertNoLeak(result, [...LEAKABLE, jwt, ...vault.counters.issued]);
    assert.deepEqual(await readVaultDoc(vaultPath), {
      SNOWFLAKE: { TEAM: { PASSWORD: VALUES.teamPassword } },
    });
    assert.equal(server.log[0], "POST /v1/auth/gitlab/login");
    assert.deepEqual([...vault.counters.namespaces], ["team-a"]);
    assert.deepEqual(vault.counters.revoked, vault.counters.issued);
  } finally {
    await server.close();
  }
});

Deno.test("JWT: a claim outside the role's bound claims is refused with exit 3", async () => {
  const { privateKey, publicKey } = await jwtKeys();
  const jwt = await signJwt(privateKey, { ...CLAIMS, ref: "feature-x" });
  const { server, vault } = startVault(seed(publicKey));
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const before = await readBytes(vaultPath);
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role",
        SECRETS_HASHICORP_VAULT_JWT: jwt,
      }),
    );
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(
      result,
      /JWT login .*role ci-role.* refused \(HTTP 400\): error validating claims: claim "ref"/,
    );
    assertNoLeak(result, [...LEAKABLE, jwt]);
    assert.deepEqual(await readBytes(vaultPath), before);
    assert.equal(vault.counters.issued.length, 0);
  } finally {
    await server.close();
  }
});

Deno.test("JWT: a token signed by another key is refused by the fake", async () => {
  const { publicKey } = await jwtKeys();
  const other = await jwtKeys();
  const jwt = await signJwt(other.privateKey, CLAIMS);
  const { server, vault } = startVault(seed(publicKey));
  try {
    await using tmp = await tempVault();
    const { vault: vaultPath } = tmp;
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role",
        CI_JOB_JWT: jwt,
      }),
    );
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(result, /refused \(HTTP 400\): error validating token/);
    assertNoLeak(result, [...LEAKABLE, jwt]);
    assert.equal(vault.counters.failedLogins, 1);
  } finally {
    await server.close();
  }
});

Deno.test("JWT: an expired token is rejected before any network call", async () => {
  const { privateKey, publicKey } = await jwtKeys();
  const jwt = await signJwt(privateKey, CLAIMS, -60);
  const { server } = startVault(seed(publicKey));
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const before = await readBytes(vaultPath);
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role",
        CI_JOB_JWT: jwt,
        SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
      }),
    );
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(
      result,
      /the JWT in CI_JOB_JWT expired at \S+Z; JWT login was not attempted/,
    );
    assertNoLeak(result, [...LEAKABLE, jwt]);
    assert.deepEqual(await readBytes(vaultPath), before);
    assert.equal(server.requests, 0);
  } finally {
    await server.close();
  }
});

Deno.test("JWT: a malformed token is a configuration error, before any network call", async () => {
  const { server } = startVault(seed());
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const before = await readBytes(vaultPath);
    const bogus = "not-a-jwt-at-all-but-secret-ish";
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role",
        SECRETS_HASHICORP_VAULT_JWT: bogus,
      }),
    );
    assert.equal(result.code, 2, result.stderr);
    assertOneErrorLine(result, /SECRETS_HASHICORP_VAULT_JWT is not a well-formed JWT/);
    assertNoLeak(result, [...LEAKABLE, bogus]);
    assert.deepEqual(await readBytes(vaultPath), before);
    assert.equal(server.requests, 0);
  } finally {
    await server.close();
  }
});

Deno.test("order when all are set: JWT first, then token, then userpass", async () => {
  const { privateKey, publicKey } = await jwtKeys();
  const jwt = await signJwt(privateKey, CLAIMS);
  const { server, vault } = startVault(seed(publicKey));
  const all = {
    ...ONE,
    SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role",
    CI_JOB_JWT: jwt,
    SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
    SECRETS_HASHICORP_VAULT_USERNAME: "ci-user",
    SECRETS_HASHICORP_VAULT_PASSWORD: USER_PASSWORD,
  };
  try {
    // All three: JWT login only.
    await using tmp = await tempVault();
    const { vault: first } = tmp;
    const jwtRun = await runTool([], vaultEnv(server.url, first, all));
    assert.equal(jwtRun.code, 0, jwtRun.stderr);
    assertNoLeak(jwtRun, [...LEAKABLE, jwt, ...vault.counters.issued]);
    assert.deepEqual(vault.counters.logins, { jwt: 1, userpass: 0 });
    assert.deepEqual(await readVaultDoc(first), TRANSFORM);

    // Without the role: the token, no login, nothing revoked.
    const { SECRETS_HASHICORP_VAULT_JWT_ROLE: _role, ...noJwt } = all;
    await using tmp2 = await tempVault();
    const { vault: second } = tmp2;
    const tokenRun = await runTool([], vaultEnv(server.url, second, noJwt));
    assert.equal(tokenRun.code, 0, tokenRun.stderr);
    assertNoLeak(tokenRun, [...LEAKABLE, jwt, ...vault.counters.issued]);
    assert.deepEqual(vault.counters.logins, { jwt: 1, userpass: 0 });
    assert.equal(vault.counters.revoked.length, 1);
    assert.ok(!vault.counters.revoked.includes(ROOT_TOKEN));

    // Without the token either: userpass.
    const { SECRETS_HASHICORP_VAULT_TOKEN: _token, ...onlyUserpass } = noJwt;
    await using tmp3 = await tempVault();
    const { vault: third } = tmp3;
    const userRun = await runTool([], vaultEnv(server.url, third, onlyUserpass));
    assert.equal(userRun.code, 0, userRun.stderr);
    assertNoLeak(userRun, [...LEAKABLE, jwt, ...vault.counters.issued]);
    assert.deepEqual(vault.counters.logins, { jwt: 1, userpass: 1 });
    assert.equal(vault.counters.revoked.length, 2);
    assert.deepEqual(await readVaultDoc(third), TRANSFORM);
  } finally {
    await server.close();
  }
});

Deno.test("an unknown token fails with exit 3 and is not revoked", async () => {
  const { server, vault } = startVault(seed());
  try {
    await using tmp = await tempVault(EXISTING);
    const { vault: vaultPath } = tmp;
    const before = await readBytes(vaultPath);
    const token = "hvs.unknownTokenNotIssuedByVault00";
    const result = await runTool(
      [],
      vaultEnv(server.url, vaultPath, {
        SECRETS_HASHICORP_VAULT_TOKEN: token,
      }),
    );
    assert.equal(result.code, 3, result.stderr);
    assertOneErrorLine(
      result,
      /permission denied.*the token in SECRETS_HASHICORP_VAULT_TOKEN, or check that the token is valid/,
    );
    assertNoLeak(result, [...LEAKABLE, token]);
    assert.deepEqual(await readBytes(vaultPath), before);
    assert.ok(!server.log.includes("POST /v1/auth/token/revoke-self"));
    assert.deepEqual(vault.counters.revoked, []);
  } finally {
    await server.close();
  }
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
