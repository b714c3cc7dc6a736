/**
 * Shared data and helpers for the HashiCorp Vault tests: a seeded fake Vault, JWT signing,
 * the environment of a run, and scenarios of runs against the fake.
 *
 * @module
 */

import { generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { fakeVault, type FakeVaultData, type FakeVaultOptions } from "../fakes/hashicorp_vault.ts";
import { type Fake, type FakeOptions, startFake } from "../fakes/server.ts";
import { type Scenario, scenario } from "./scenario.ts";
import { type World, world } from "./world.ts";

/** The pre-issued token with read and list on the whole `secret` and `kv1` mounts. */
export const ROOT_TOKEN = "hvs.CAESIfakeRootTokenForTests0001";
/** A token whose policy may list but not read. */
export const LIST_ONLY_TOKEN = "hvs.CAESIfakeListOnlyTokenForTests02";
/** A token bound to namespace `team-a`. */
export const TEAM_TOKEN = "hvs.CAESIfakeTeamATokenForTests00003";
/** The userpass password of `ci-user`. */
export const USER_PASSWORD = "pass-Wd-for-ci-user-7731";
/** The userpass password of `weak-user` (policy without read). */
export const WEAK_PASSWORD = "pass-Wd-for-weak-user-9902";

/** Every seeded secret value, for leak checks. */
export const VALUES = {
  transformUser: "transform_user_v2",
  transformPassword: "tr4nsf0rm-Pa55w0rd-v2",
  ingestPassword: "1ngest-Pa55-v2-deep",
  appConfig: '{"host":"db.internal","port":5432,"secret":"app-json-s3cret"}',
  appConfigSecret: "app-json-s3cret",
  apiKey: "api-key-value-0f9e8d",
  deletedValue: "deleted-value-never-read",
  destroyedValue: "destroyed-value-never-read",
  v1Password: "v1-legacy-Pa55w0rd",
  v1Token: "v1-legacy-token-abc123",
  teamPassword: "team-a-only-Pa55w0rd",
  otherMount: "other-mount-val-77",
};

/** The values as a list. */
export const ALL_VALUES: string[] = Object.values(VALUES);

/** Credentials used across tests, for leak checks. */
export const CREDENTIALS: string[] = [
  ROOT_TOKEN,
  LIST_ONLY_TOKEN,
  TEAM_TOKEN,
  USER_PASSWORD,
  WEAK_PASSWORD,
];

/** A key pair for JWTs, the public half given to the fake. */
export async function jwtKeys(): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  return await generateKeyPair("ES256");
}

/** Sign a JWT as a CI system would (ES256, issuer `https://ci.example.com`). */
export async function signJwt(
  key: CryptoKey,
  claims: JWTPayload,
  expiresInSeconds = 300,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: "test" })
    .setIssuer("https://ci.example.com")
    .setAudience("https://vault.example.com")
    .setSubject("project_path:group/project:ref_type:branch:ref:main")
    .setIssuedAt(now - 10)
    .setExpirationTime(now + expiresInSeconds)
    .sign(key);
}

/** The standard data set: KV v2 `secret` (nested), KV v1 `kv1`, namespace `team-a`. */
export function seed(publicKey?: CryptoKey): FakeVaultData {
  return {
    namespaces: {
      "": {
        secret: {
          version: 2,
          secrets: {
            "SNOWFLAKE/TRANSFORM": {
              data: { USERNAME: VALUES.transformUser, PASSWORD: VALUES.transformPassword },
              version: 3,
            },
            "SNOWFLAKE/INGEST/deep/CREDS": { data: { PASSWORD: VALUES.ingestPassword } },
            "app/config": { data: { JSON: VALUES.appConfig, API_KEY: VALUES.apiKey } },
            "old/deleted": { data: { V: VALUES.deletedValue }, version: 2, deleted: true },
            "old/destroyed": { data: { V: VALUES.destroyedValue }, version: 5, destroyed: true },
          },
        },
        other: { version: 2, secrets: { "team/x": { data: { VAL: VALUES.otherMount } } } },
        kv1: {
          version: 1,
          nullOptions: true,
          secrets: {
            "legacy/db": { data: { PASSWORD: VALUES.v1Password } },
            "legacy/nested/svc/api": { data: { TOKEN: VALUES.v1Token } },
          },
        },
      },
      "team-a": {
        secret: {
          version: 2,
          secrets: { "SNOWFLAKE/TEAM": { data: { PASSWORD: VALUES.teamPassword } } },
        },
      },
    },
    policies: {
      reader: {
        "secret/data/*": ["read"],
        "secret/metadata/*": ["list"],
        "other/data/*": ["read"],
        "other/metadata/*": ["list"],
        "kv1/*": ["read", "list"],
      },
      "list-only": { "secret/metadata/*": ["list"] },
      "no-ingest": {
        "secret/data/*": ["read"],
        "secret/metadata/*": ["list"],
        "secret/metadata/SNOWFLAKE/INGEST/*": ["deny"],
      },
    },
    tokens: {
      [ROOT_TOKEN]: { policies: ["reader"] },
      [LIST_ONLY_TOKEN]: { policies: ["list-only"] },
      [TEAM_TOKEN]: { policies: ["reader"], namespace: "team-a" },
    },
    users: {
      "ci-user": { password: USER_PASSWORD, policies: ["reader"] },
      "weak-user": { password: WEAK_PASSWORD, policies: ["list-only"] },
      "team-user": { password: USER_PASSWORD, policies: ["reader"], namespace: "team-a" },
    },
    jwt: publicKey
      ? {
        key: publicKey,
        roles: {
          "ci-role": {
            boundClaims: { project_id: "12345", ref: ["main", "release"] },
            boundAudiences: ["https://vault.example.com"],
            policies: ["reader"],
          },
        },
      }
      : undefined,
  };
}

/** A started fake Vault with its counters (stopped by `close()` or `await using`). */
export interface RunningVault extends World {
  /** The HTTP server. */
  server: Fake;
  /** The fake's counters and options. */
  vault: ReturnType<typeof fakeVault>;
}

/** Start a fake Vault. */
export function startVault(
  data: FakeVaultData,
  options: FakeVaultOptions = {},
  server: FakeOptions = {},
): RunningVault {
  const vault = fakeVault(data, options);
  const fake = startFake(vault.handler, server);
  return world({ vault, server: fake }, () => fake.close());
}

/** The environment of a HASHICORP_VAULT run against `url` writing `vaultPath`. */
export function vaultEnv(
  url: string,
  vaultPath: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    SECRETS_MANAGER: "HASHICORP_VAULT",
    SECRETS_HASHICORP_VAULT_URL: url,
    SECRETS_VAULT_PATH: vaultPath,
    SECRETS_TIMEOUT: "30",
    SECRETS_REQUEST_TIMEOUT: "5",
    ...extra,
  };
}

/**
 * A {@linkcode Scenario} of runs against `running`'s fake ({@linkcode vaultEnv});
 * its vault starts as `content` (default: no vault file).
 */
export function vaultScenario(running: RunningVault, content?: string): Promise<Scenario> {
  return scenario((path) => vaultEnv(running.server.url, path), { vault: content });
}
