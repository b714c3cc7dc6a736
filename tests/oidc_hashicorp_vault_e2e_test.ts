/**
 * HashiCorp Vault logins for CI: JWT login with GitHub Actions' OIDC token (audience from
 * `SECRETS_OIDC_AUDIENCE`) or `SECRETS_OIDC_TOKEN`, AppRole, Kubernetes, the explicit
 * `SECRETS_HASHICORP_VAULT_AUTH_METHOD` and the order when it is unset; every logged-in
 * token revoked at the end; an expired token failing before any request.
 *
 * @module
 */

import assert from "node:assert/strict";
import { generateKeyPair, SignJWT } from "jose";
import { assertNoLeak } from "./support/assertions.ts";
import { assertCleanFailure, assertFailureTable, snapshot } from "./support/failure.ts";
import { runTool } from "./support/run_tool.ts";
import { tempVault } from "./support/temp.ts";
import { readVaultDoc } from "./support/vault.ts";
import { sandboxOf, testSettings } from "./support/settings.ts";
import {
  ALL_VALUES,
  CREDENTIALS,
  jwtKeys,
  ROOT_TOKEN,
  seed,
  signJwt,
  startVault,
  VALUES,
  vaultEnv,
} from "./support/hashicorp_vault.ts";
import { startFake } from "./fakes/server.ts";
import type { FakeVaultData } from "./fakes/hashicorp_vault.ts";
import { githubOidcFake } from "./fakes/github_oidc.ts";
import { hashicorpVaultProvider } from "../providers/hashicorp_vault/mod.ts";

const ONE = { SECRETS_SELECTION: "secret/SNOWFLAKE/TRANSFORM" };
const TRANSFORM = {
  SNOWFLAKE: { TRANSFORM: { USERNAME: VALUES.transformUser, PASSWORD: VALUES.transformPassword } },
};
const AUDIENCE = "https://vault.example.com";
const ROLE_ID = "5d1a1e4e-role-id-0001";
const SECRET_ID = "9b7c0a3e-secret-id-s3cr3t-0001";
const LEAKABLE = [...ALL_VALUES, ...CREDENTIALS, SECRET_ID];

/** The seeded data plus an AppRole role and a Kubernetes role trusting `clusterKey`. */
function data(jwtKey?: CryptoKey, clusterKey?: CryptoKey): FakeVaultData {
  const base = seed(jwtKey);
  base.approle = {
    roles: { loader: { roleId: ROLE_ID, secretIds: [SECRET_ID], policies: ["reader"] } },
  };
  if (clusterKey) {
    base.kubernetes = {
      key: clusterKey,
      roles: {
        "ci-loader": { serviceAccounts: ["loader"], namespaces: ["ci"], policies: ["reader"] },
      },
    };
  }
  if (jwtKey && base.jwt) {
    base.jwt.roles["github-main"] = {
      boundClaims: { repository: "octo-org/octo-repo", ref: "refs/heads/main" },
      boundAudiences: [AUDIENCE],
      policies: ["reader"],
    };
  }
  return base;
}

/** A service-account token as the kubelet mounts it (RS256, `kubernetes.io` claims). */
async function serviceAccountToken(key: CryptoKey, name = "loader", expiresIn = 3600) {
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({
    "kubernetes.io": { namespace: "ci", serviceaccount: { name, uid: crypto.randomUUID() } },
  })
    .setProtectedHeader({ alg: "RS256", kid: "cluster" })
    .setIssuer("https://kubernetes.default.svc.cluster.local")
    .setSubject(`system:serviceaccount:ci:${name}`)
    .setAudience("https://kubernetes.default.svc.cluster.local")
    .setIssuedAt(now)
    .setExpirationTime(now + expiresIn)
    .sign(key);
}

Deno.test("vault oidc: JWT login with GitHub Actions' token (audience SECRETS_OIDC_AUDIENCE), revoked at the end", async () => {
  const github = await githubOidcFake();
  const { server, vault } = startVault(data(github.publicKey));
  const githubServer = startFake(github.handler);
  try {
    await using tmp = await tempVault();
    const result = await runTool(
      ["--verbose"],
      vaultEnv(server.url, tmp.vault, {
        ...ONE,
        SECRETS_HASHICORP_VAULT_JWT_ROLE: "github-main",
        SECRETS_OIDC_AUDIENCE: AUDIENCE,
        ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(githubServer.url),
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await readVaultDoc(tmp.vault), TRANSFORM);
    assert.deepEqual(github.audiences, [AUDIENCE]);
    assert.equal(vault.counters.logins.jwt, 1);
    assert.deepEqual(vault.counters.revoked, vault.counters.issued);
    assert.match(
      result.stderr,
      /JWT login \(auth\/jwt, role github-main, token from GitHub Actions/,
    );
    assertNoLeak(result, [
      ...LEAKABLE,
      github.requestToken,
      ...github.issued,
      ...vault.counters.issued,
    ]);
  } finally {
    await githubServer.close();
    await server.close();
  }
});

Deno.test("vault oidc: GitHub's endpoint without SECRETS_OIDC_AUDIENCE is a configuration error, before any request", async () => {
  const github = await githubOidcFake();
  const { server } = startVault(data(github.publicKey));
  const githubServer = startFake(github.handler);
  try {
    await assertFailureTable([{
      what: "no audience",
      env: vaultEnv(server.url, "", {
        SECRETS_HASHICORP_VAULT_JWT_ROLE: "github-main",
        ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(githubServer.url),
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
      }),
      code: 2,
      line: /HashiCorp Vault JWT login with GitHub Actions' OIDC token needs SECRETS_OIDC_AUDIENCE/,
      secrets: [github.requestToken],
    }]);
    assert.deepEqual([server.requests, githubServer.requests], [0, 0]);
  } finally {
    await githubServer.close();
    await server.close();
  }
});

Deno.test("vault oidc: JWT precedence is the JWT variables, then SECRETS_OIDC_TOKEN, then GitHub's endpoint", async () => {
  const github = await githubOidcFake();
  const { privateKey, publicKey } = await jwtKeys();
  const claims = { project_id: "12345", ref: "main" };
  const good = await signJwt(privateKey, claims);
  // A token from another issuer's key: logging in with it would be refused.
  const stranger = await signJwt((await jwtKeys()).privateKey, claims);
  const { server, vault } = startVault(data(publicKey));
  const githubServer = startFake(github.handler);
  const common = {
    ...ONE,
    SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role",
    SECRETS_OIDC_AUDIENCE: AUDIENCE,
    ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(githubServer.url),
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
  };
  try {
    for (
      const [what, extra] of [
        ["CI_JOB_JWT beats SECRETS_OIDC_TOKEN", { CI_JOB_JWT: good, SECRETS_OIDC_TOKEN: stranger }],
        ["SECRETS_OIDC_TOKEN beats GitHub", { SECRETS_OIDC_TOKEN: good }],
      ] as const
    ) {
      await using tmp = await tempVault();
      const result = await runTool([], vaultEnv(server.url, tmp.vault, { ...common, ...extra }));
      assert.equal(result.code, 0, `${what}: ${result.stderr}`);
      assert.deepEqual(await readVaultDoc(tmp.vault), TRANSFORM, what);
      assertNoLeak(result, [...LEAKABLE, good, stranger, github.requestToken]);
    }
    assert.equal(github.issued.length, 0, "GitHub's endpoint was never asked");
    assert.equal(vault.counters.logins.jwt, 2);
  } finally {
    await githubServer.close();
    await server.close();
  }
});

Deno.test("vault oidc: an expired SECRETS_OIDC_TOKEN fails before any request reaches a fake", async () => {
  const github = await githubOidcFake();
  const { privateKey, publicKey } = await jwtKeys();
  const expired = await signJwt(privateKey, { project_id: "12345", ref: "main" }, -30);
  const { server } = startVault(data(publicKey));
  const githubServer = startFake(github.handler);
  try {
    await using tmp = await tempVault("KEEP: 1\n");
    const snap = await snapshot(tmp.vault);
    const result = await runTool(
      [],
      vaultEnv(server.url, tmp.vault, {
        SECRETS_HASHICORP_VAULT_JWT_ROLE: "ci-role",
        SECRETS_OIDC_TOKEN: expired,
        ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl(githubServer.url),
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
      }),
    );
    await assertCleanFailure(result, snap, {
      code: 3,
      line: /the JWT in SECRETS_OIDC_TOKEN expired at/,
      secrets: [expired],
    });
    assert.deepEqual([server.requests, githubServer.requests], [0, 0]);
  } finally {
    await githubServer.close();
    await server.close();
  }
});

Deno.test("vault approle: role id and secret id log in on a custom mount, the token is revoked; a wrong secret id is refused", async () => {
  const custom = data();
  custom.approle!.mount = "ci-approle";
  const { server, vault } = startVault(custom);
  try {
    await using tmp = await tempVault();
    const env = {
      ...ONE,
      SECRETS_HASHICORP_VAULT_ROLE_ID: ROLE_ID,
      SECRETS_HASHICORP_VAULT_SECRET_ID: SECRET_ID,
      SECRETS_HASHICORP_VAULT_APPROLE_MOUNT: "ci-approle",
    };
    const result = await runTool(["--verbose"], vaultEnv(server.url, tmp.vault, env));
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await readVaultDoc(tmp.vault), TRANSFORM);
    assert.equal(server.log[0], "POST /v1/auth/ci-approle/login");
    assert.equal(vault.counters.logins.approle, 1);
    assert.deepEqual(vault.counters.revoked, vault.counters.issued);
    assertNoLeak(result, [...LEAKABLE, ...vault.counters.issued]);
    await assertFailureTable([
      {
        what: "wrong secret id",
        env: vaultEnv(server.url, "", {
          ...env,
          SECRETS_HASHICORP_VAULT_SECRET_ID: "wrong-secret-id-77",
        }),
        vault: "KEEP: 1\n",
        code: 3,
        line:
          /AppRole login \(auth\/ci-approle, .*\) was refused \(HTTP 400\): invalid role or secret ID/,
        secrets: ["wrong-secret-id-77", SECRET_ID],
      },
      {
        what: "the default mount is approle",
        env: vaultEnv(server.url, "", { ...env, SECRETS_HASHICORP_VAULT_APPROLE_MOUNT: "" }),
        code: 2,
        line: /AppRole login \(auth\/approle, .*\): no such auth method at auth\/approle/,
        secrets: [SECRET_ID],
      },
      {
        what: "half an AppRole",
        env: vaultEnv(server.url, "", { SECRETS_HASHICORP_VAULT_ROLE_ID: ROLE_ID }),
        code: 2,
        line:
          /AppRole auth needs both SECRETS_HASHICORP_VAULT_ROLE_ID and SECRETS_HASHICORP_VAULT_SECRET_ID/,
      },
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("vault kubernetes: the service-account token file logs in as the role, revoked at the end; a service account the role does not bind is refused", async () => {
  const cluster = await generateKeyPair("RS256");
  const { server, vault } = startVault(data(undefined, cluster.publicKey));
  try {
    await using tmp = await tempVault();
    const token = await serviceAccountToken(cluster.privateKey);
    await Deno.writeTextFile(`${tmp.dir}/sa-token`, token);
    const env = {
      ...ONE,
      SECRETS_HASHICORP_VAULT_KUBERNETES_ROLE: "ci-loader",
      SECRETS_HASHICORP_VAULT_KUBERNETES_TOKEN_FILE: `${tmp.dir}/sa-token`,
      // AppRole and a token are configured too: Kubernetes comes first.
      SECRETS_HASHICORP_VAULT_ROLE_ID: ROLE_ID,
      SECRETS_HASHICORP_VAULT_SECRET_ID: SECRET_ID,
      SECRETS_HASHICORP_VAULT_TOKEN: ROOT_TOKEN,
    };
    const result = await runTool([], vaultEnv(server.url, tmp.vault, env));
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await readVaultDoc(tmp.vault), TRANSFORM);
    assert.equal(server.log[0], "POST /v1/auth/kubernetes/login");
    assert.deepEqual(vault.counters.logins, { jwt: 0, userpass: 0, approle: 0, kubernetes: 1 });
    assert.deepEqual(vault.counters.revoked, vault.counters.issued);
    assertNoLeak(result, [...LEAKABLE, token, ...vault.counters.issued]);

    const other = await serviceAccountToken(cluster.privateKey, "intruder");
    await Deno.writeTextFile(`${tmp.dir}/other-token`, other);
    await assertFailureTable([{
      what: "unbound service account",
      env: vaultEnv(server.url, "", {
        ...env,
        SECRETS_HASHICORP_VAULT_KUBERNETES_TOKEN_FILE: `${tmp.dir}/other-token`,
      }),
      code: 3,
      line:
        /Kubernetes login \(auth\/kubernetes, role ci-loader, .*\) was refused \(HTTP 403\): service account name not authorized/,
      secrets: [other, SECRET_ID, ROOT_TOKEN],
    }, {
      what: "missing token file",
      env: vaultEnv(server.url, "", {
        ...env,
        SECRETS_HASHICORP_VAULT_KUBERNETES_TOKEN_FILE: `${tmp.dir}/none`,
      }),
      code: 2,
      line: /SECRETS_HASHICORP_VAULT_KUBERNETES_TOKEN_FILE .*\/none cannot be read/,
      secrets: [SECRET_ID, ROOT_TOKEN],
    }]);
  } finally {
    await server.close();
  }
});

Deno.test("vault auth method: SECRETS_HASHICORP_VAULT_AUTH_METHOD picks one explicitly; unknown names are refused", async () => {
  const { server, vault } = startVault(data());
  try {
    await using tmp = await tempVault();
    const result = await runTool(
      [],
      vaultEnv(server.url, tmp.vault, {
        ...ONE,
        SECRETS_HASHICORP_VAULT_AUTH_METHOD: "token",
        SECRETS_HASHICORP_VAULT_ROLE_ID: ROLE_ID,
        SECRETS_HASHICORP_VAULT_SECRET_ID: SECRET_ID,
        VAULT_TOKEN: ROOT_TOKEN,
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await readVaultDoc(tmp.vault), TRANSFORM);
    assert.equal(vault.counters.issued.length, 0, "no login: the token was used");
    assertNoLeak(result, LEAKABLE);
    await assertFailureTable([
      {
        what: "unknown method",
        env: vaultEnv(server.url, "", {
          SECRETS_HASHICORP_VAULT_AUTH_METHOD: "ldap",
          VAULT_TOKEN: ROOT_TOKEN,
        }),
        code: 2,
        line:
          /SECRETS_HASHICORP_VAULT_AUTH_METHOD="ldap" is not an auth method; use one of jwt, kubernetes, approle, token, userpass/,
        secrets: [ROOT_TOKEN],
      },
      {
        what: "named method without its variables",
        env: vaultEnv(server.url, "", {
          SECRETS_HASHICORP_VAULT_AUTH_METHOD: "kubernetes",
          VAULT_TOKEN: ROOT_TOKEN,
        }),
        code: 2,
        line:
          /SECRETS_HASHICORP_VAULT_AUTH_METHOD=kubernetes needs SECRETS_HASHICORP_VAULT_KUBERNETES_ROLE/,
        secrets: [ROOT_TOKEN],
      },
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("vault sandbox: the service-account file and GitHub's host join only when their method is used", async () => {
  const base = { SECRETS_HASHICORP_VAULT_URL: "https://vault.example.com:8200" };
  const github = {
    ACTIONS_ID_TOKEN_REQUEST_URL:
      "https://pipelines.actions.githubusercontent.com/x/idtoken?api-version=2.0",
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-token",
    SECRETS_OIDC_AUDIENCE: AUDIENCE,
  };
  const plan = (env: Record<string, string>) =>
    sandboxOf(hashicorpVaultProvider, testSettings({ env: { ...base, ...env } }));
  assert.deepEqual(await plan({ ...github, VAULT_TOKEN: "t" }), {
    net: ["vault.example.com:8200"],
    read: [],
    run: [],
  });
  assert.deepEqual(await plan({ ...github, SECRETS_HASHICORP_VAULT_JWT_ROLE: "r" }), {
    net: ["vault.example.com:8200", "pipelines.actions.githubusercontent.com:443"],
    read: [],
    run: [],
  });
  assert.deepEqual(await plan({ SECRETS_HASHICORP_VAULT_KUBERNETES_ROLE: "r" }), {
    net: ["vault.example.com:8200"],
    read: ["/var/run/secrets/kubernetes.io/serviceaccount/token"],
    run: [],
  });
});
