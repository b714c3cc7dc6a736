/**
 * Unit tests of the HashiCorp Vault backend's pure parts: configuration, selectors,
 * mapping, the local JWT check, the sandbox plan, and the fake's ACL matching.
 */

import assert from "node:assert/strict";
import { isKind } from "../lib/kit/errors.ts";
import { checkJwt } from "../lib/kit/jwt.ts";
import { parseSelector, vaultConfig } from "../providers/hashicorp_vault/config.ts";
import { listApiPath, readApiPath } from "../providers/hashicorp_vault/kv.ts";
import {
  hashicorpVaultProvider,
  mapVaultSecret,
  stripMountedPrefix,
} from "../providers/hashicorp_vault/mod.ts";
import type { ProviderSettings } from "../lib/contract/provider.ts";
import { policyMatches } from "./fakes/hashicorp_vault.ts";
import { jwtKeys, signJwt } from "./support/hashicorp_vault.ts";
import { kindOf } from "./support/assertions.ts";
import { sandboxOf, testSettings } from "./support/settings.ts";

function settings(
  env: Record<string, string>,
  extra: Partial<ProviderSettings> = {},
): ProviderSettings {
  return testSettings({
    env: { SECRETS_HASHICORP_VAULT_URL: "https://vault.example.com", VAULT_TOKEN: "t0ken", ...env },
    cwd: "/work/project",
    ...extra,
  });
}

Deno.test("config: defaults, fallbacks and the sandbox plan", async () => {
  const config = vaultConfig(settings({ VAULT_CACERT: "certs/ca.pem", VAULT_NAMESPACE: "/ns1/" }));
  assert.equal(config.url, "https://vault.example.com");
  assert.equal(config.hostPort, "vault.example.com:443");
  assert.equal(config.kvVersion, 2);
  assert.equal(config.concurrency, 32);
  assert.equal(config.namespace, "ns1");
  assert.equal(config.caCert, "/work/project/certs/ca.pem");
  assert.deepEqual(config.selectors.map((s) => [s.mount, s.path]), [["secret", ""]]);
  assert.deepEqual(config.auth, { method: "token", token: "t0ken", source: "VAULT_TOKEN" });
  assert.deepEqual(
    await sandboxOf(
      hashicorpVaultProvider,
      settings({ SECRETS_HASHICORP_VAULT_URL: "http://10.0.0.5:8200/", VAULT_ADDR: "x" }),
    ),
    { net: ["10.0.0.5:8200"], read: [], run: [] },
  );
  assert.deepEqual(
    await sandboxOf(
      hashicorpVaultProvider,
      settings({ SECRETS_HASHICORP_VAULT_CACERT: "/etc/ca.pem" }),
    ),
    { net: ["vault.example.com:443"], read: ["/etc/ca.pem"], run: [] },
  );
});

Deno.test("config: bad values are configuration errors", () => {
  for (
    const env of [
      { SECRETS_HASHICORP_VAULT_KV_VERSION: "3" },
      { SECRETS_HASHICORP_VAULT_CONCURRENCY: "0" },
      { SECRETS_HASHICORP_VAULT_URL: "vault.example.com" },
      { SECRETS_HASHICORP_VAULT_URL: "ftp://vault.example.com" },
      { VAULT_TOKEN: "", SECRETS_HASHICORP_VAULT_USERNAME: "u" },
    ] as Record<string, string>[]
  ) {
    assert.throws(() => vaultConfig(settings(env)), kindOf("config"), JSON.stringify(env));
  }
  assert.throws(() => parseSelector("/"), kindOf("config"));
  assert.throws(() => parseSelector("secret/a//b"), kindOf("config"));
});

Deno.test("selectors: mount, path, folder-only", () => {
  assert.deepEqual(parseSelector("secret"), {
    text: "secret",
    mount: "secret",
    path: "",
    folderOnly: true,
  });
  assert.deepEqual(parseSelector("/kv/a/b/"), {
    text: "/kv/a/b/",
    mount: "kv",
    path: "a/b",
    folderOnly: true,
  });
  assert.equal(parseSelector("kv/a/b").folderOnly, false);
  assert.equal(listApiPath(2, "secret", "a b/c"), "secret/metadata/a%20b/c/");
  assert.equal(listApiPath(1, "kv", ""), "kv/");
  assert.equal(readApiPath(2, "secret", "a/b"), "secret/data/a/b");
  assert.equal(readApiPath(1, "kv", "a/b"), "kv/a/b");
});

Deno.test("auth order: JWT (SECRETS_HASHICORP_VAULT_JWT first), token, userpass", () => {
  const all = {
    SECRETS_HASHICORP_VAULT_JWT_ROLE: "r",
    CI_JOB_JWT: "ci",
    VAULT_ID_TOKEN: "id",
    SECRETS_HASHICORP_VAULT_JWT: "explicit",
    SECRETS_HASHICORP_VAULT_USERNAME: "u",
    SECRETS_HASHICORP_VAULT_PASSWORD: "p",
  };
  assert.equal(vaultConfig(settings(all)).auth.method, "jwt");
  assert.deepEqual(
    (vaultConfig(settings(all)).auth as { source: string }).source,
    "SECRETS_HASHICORP_VAULT_JWT",
  );
  const { SECRETS_HASHICORP_VAULT_JWT: _explicit, ...noExplicit } = all;
  assert.equal((vaultConfig(settings(noExplicit)).auth as { source: string }).source, "CI_JOB_JWT");
  const { SECRETS_HASHICORP_VAULT_JWT_ROLE: _role, ...noRole } = all;
  assert.equal(vaultConfig(settings(noRole)).auth.method, "token");
  assert.equal(vaultConfig(settings({ ...noRole, VAULT_TOKEN: "" })).auth.method, "userpass");
});

Deno.test("checkJwt: expired, not yet valid and malformed tokens fail without quoting them", async () => {
  const { privateKey } = await jwtKeys();
  checkJwt(await signJwt(privateKey, {}), "CI_JOB_JWT");
  const expired = await signJwt(privateKey, {}, -5);
  assert.throws(() => checkJwt(expired, "CI_JOB_JWT"), (error: Error) => {
    assert.ok(isKind(error, "auth"));
    assert.ok(!error.message.includes(expired));
    return true;
  });
  assert.throws(() => checkJwt("a.b.c", "VAULT_ID_TOKEN"), kindOf("config"));
  assert.throws(() => checkJwt("", "VAULT_ID_TOKEN"), kindOf("config"));
  const future = await signJwt(privateKey, { nbf: Math.floor(Date.now() / 1000) + 3600 });
  assert.throws(() => checkJwt(future, "CI_JOB_JWT"), kindOf("auth"));
});

Deno.test("map: path below the mount, slashes to dots, then each data key", () => {
  const s = settings({});
  const secret = { name: "secret/SNOWFLAKE/TRANSFORM", value: { USERNAME: "u", "A.B": "x" } };
  assert.deepEqual(mapVaultSecret(secret, s).map((e) => [e.path.join("."), e.value]), [
    ["SNOWFLAKE.TRANSFORM.USERNAME", "u"],
    ["SNOWFLAKE.TRANSFORM.A.B", "x"],
  ]);
  const stripped = settings({}, { stripPrefix: "SNOWFLAKE/" });
  assert.deepEqual(mapVaultSecret(secret, stripped).map((e) => e.path.join(".")), [
    "TRANSFORM.USERNAME",
    "TRANSFORM.A.B",
  ]);
  assert.equal(stripMountedPrefix("secret/SNOWFLAKE/TRANSFORM", "secret/SNOWFLAKE"), "TRANSFORM");
  assert.equal(stripMountedPrefix("secret/secret/x", "secret/x"), "");
  assert.equal(stripMountedPrefix("secret/app/config", "app/config"), "");
  const json = { name: "kv/app", value: { CFG: '{"a":{"b":1}}' } };
  assert.deepEqual(
    mapVaultSecret(json, settings({}, { expandJson: true })).map((e) => [e.path, e.value]),
    [[["app", "CFG", "a", "b"], 1]],
  );
  assert.throws(
    () => mapVaultSecret({ name: "kv/app", value: { L: [1] as unknown as string } }, s),
    kindOf("conflict"),
  );
});

Deno.test("fake ACL path matching: exact, * prefix glob, + segment", () => {
  assert.ok(policyMatches("secret/data/a", "secret/data/a"));
  assert.ok(!policyMatches("secret/data/a", "secret/data/ab"));
  assert.ok(policyMatches("secret/data/a*", "secret/data/ab/c"));
  assert.ok(policyMatches("secret/metadata/*", "secret/metadata/"));
  assert.ok(policyMatches("secret/+/a", "secret/data/a"));
  assert.ok(!policyMatches("secret/+/a", "secret/data/b"));
  assert.ok(!policyMatches("kv/*", "secret/data/a"));
});
