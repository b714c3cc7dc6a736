/**
 * One representative scenario per network backend, with optional fault injection on its
 * fakes: the fakes, the environment that points the tool at them, the starting vault, and
 * every value and credential that must never be printed. Shared by the fault and leak tests.
 *
 * @module
 */

import { type FaultOptions, type Faulty, withFaults } from "../fakes/faults.ts";
import {
  AWS_ERRORS,
  AZURE_ERRORS,
  AZURE_IDENTITY_ERRORS,
  type BackendErrors,
  VAULT_ERRORS,
} from "../fakes/faults.ts";
import { type FakeHandler, startFake } from "../fakes/server.ts";
import { secretsManagerFake } from "../fakes/aws_secrets_manager.ts";
import { ssmFake } from "../fakes/aws_ssm.ts";
import { azureIdentityFake } from "../fakes/azure_identity.ts";
import { azureKeyVaultFake } from "../fakes/azure_key_vault.ts";
import { fakeVault } from "../fakes/hashicorp_vault.ts";
import { SECRET_KEY, testKeys, vaultWithKeys } from "./aws.ts";
import { CREDENTIALS as VAULT_CREDENTIALS, seed, USER_PASSWORD } from "./hashicorp_vault.ts";
import { MI_ID, TENANT } from "./azure.ts";
import { type World as Running, world } from "./world.ts";

/** Fault settings for a world: everything but the backend's error bodies. */
export type WorldFaults = Omit<FaultOptions, "errors"> & {
  /** Only the secrets service fails, not the identity service in front of it. */
  mainOnly?: boolean;
};

/** A running scenario (stopped by `close()` or `await using`). */
export interface World extends Running {
  /** The backend's name as errors spell it (e.g. `AWS Secrets Manager`). */
  label: string;
  /** The environment of the run (without `SECRETS_VAULT_PATH`). */
  env: Record<string, string>;
  /** The starting vault's text. */
  vault: string;
  /** Every secret value and credential of the scenario (tokens issued so far included). */
  secrets(): string[];
  /** Fault counters of every wrapped fake. */
  faults: Faulty[];
  /** Requests that reached the secrets service's handler. */
  served(): number;
}

/** A way to start a world. */
export interface WorldSpec {
  /** Short name for test titles. */
  name: string;
  /** Start it, with faults on every fake when `faults` is given. */
  start(faults?: WorldFaults): World;
}

function wrap(
  handler: FakeHandler,
  errors: BackendErrors,
  faults: WorldFaults | undefined,
  salt: number,
  list: Faulty[],
  main = true,
): FakeHandler {
  if (!faults || (faults.mainOnly && !main)) return handler;
  const sequence = main ? faults.sequence : undefined;
  const options = { ...faults, sequence, seed: faults.seed + salt, errors };
  const faulty = withFaults(handler, options);
  list.push(faulty);
  return faulty.handler;
}

function counted(handler: FakeHandler): { handler: FakeHandler; count: () => number } {
  let n = 0;
  return {
    handler: (request, info) => {
      n++;
      return handler(request, info);
    },
    count: () => n,
  };
}

/** A value that is the same in every run (so fault-free and faulty vaults can be compared). */
function value(i: number): string {
  return `v${i}-s3cr3t-${(i * 7919 + 104729).toString(36)}-${(i * 31 + 7).toString(16)}`;
}

const TIMEOUTS = { SECRETS_TIMEOUT: "60", SECRETS_REQUEST_TIMEOUT: "0.5" };

/** AWS Secrets Manager: 120 secrets (JSON and plain), listing + batch reads, static keys. */
export const AWS_SM: WorldSpec = {
  name: "AWS Secrets Manager",
  start(faults) {
    const list: Faulty[] = [];
    const secrets = Array.from({ length: 120 }, (_, i) => {
      const n = String(i).padStart(2, "0");
      return i % 3 === 0
        ? { name: `app/json${n}`, string: JSON.stringify({ [`APP.J${n}.PASSWORD`]: value(i) }) }
        : { name: `app/plain${n}`, string: value(i) };
    });
    const sm = secretsManagerFake(secrets, testKeys(), { pageSize: 10 });
    const inner = counted(sm.handler);
    const server = startFake(wrap(inner.handler, AWS_ERRORS, faults, 1, list));
    return world({
      label: "AWS Secrets Manager",
      env: {
        SECRETS_MANAGER: "AWS_SECRETS_MANAGER",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
        SECRETS_AWS_CONCURRENCY: "4",
        ...TIMEOUTS,
      },
      vault: vaultWithKeys("KEEP: me\n"),
      secrets: () => [...secrets.flatMap((s) => [s.string, ...tryJson(s.string)]), SECRET_KEY],
      faults: list,
      served: inner.count,
    }, () => stopThen(list, () => server.close()));
  },
};

/** AWS SSM Parameter Store: 40 SecureString parameters under one path. */
export const AWS_SSM: WorldSpec = {
  name: "AWS SSM Parameter Store",
  start(faults) {
    const list: Faulty[] = [];
    const params = Array.from({ length: 40 }, (_, i) => ({
      name: `/dataops/svc${i % 5}/KEY${String(i).padStart(2, "0")}`,
      type: "SecureString" as const,
      value: value(i),
    }));
    const ssm = ssmFake(params, testKeys());
    const inner = counted(ssm.handler);
    const server = startFake(wrap(inner.handler, AWS_ERRORS, faults, 2, list));
    return world({
      label: "AWS SSM Parameter Store",
      env: {
        SECRETS_MANAGER: "AWS_PARAMETER_STORE",
        AWS_ENDPOINT_URL_SSM: server.url,
        SECRETS_SELECTION: "/dataops/",
        SECRETS_STRIP_PREFIX: "/dataops/",
        SECRETS_AWS_CONCURRENCY: "4",
        ...TIMEOUTS,
      },
      vault: vaultWithKeys("KEEP: me\n"),
      secrets: () => [...params.map((p) => p.value), SECRET_KEY],
      faults: list,
      served: inner.count,
    }, () => stopThen(list, () => server.close()));
  },
};

/** Azure Key Vault through IMDS: 60 secrets over 3 pages; faults on IMDS and Key Vault. */
export const AZURE: WorldSpec = {
  name: "Azure Key Vault",
  start(faults) {
    const list: Faulty[] = [];
    const identity = azureIdentityFake({ tenant: TENANT, systemIdentity: MI_ID });
    const secrets = Array.from({ length: 60 }, (_, i) => ({
      name: `APP-S${String(i).padStart(2, "0")}-PASSWORD`,
      value: value(i),
    }));
    const kv = azureKeyVaultFake({
      tenant: TENANT,
      secrets,
      access: { [MI_ID]: { list: true, get: true } },
    }, { verify: identity.verify });
    const inner = counted(kv.handler);
    const identityServer = startFake(
      wrap(identity.handler, AZURE_IDENTITY_ERRORS, faults, 3, list, false),
    );
    const kvServer = startFake(wrap(inner.handler, AZURE_ERRORS, faults, 4, list));
    return world({
      label: "Azure Key Vault",
      env: {
        SECRETS_MANAGER: "AZURE_KEY_VAULT",
        SECRETS_AZURE_KEY_VAULT_URL: kvServer.url,
        AZURE_POD_IDENTITY_AUTHORITY_HOST: identityServer.url,
        SECRETS_AZURE_CONCURRENCY: "4",
        ...TIMEOUTS,
      },
      vault: "KEEP: me\n",
      secrets: () => [...secrets.map((s) => s.value), ...identity.seen],
      faults: list,
      served: inner.count,
    }, () =>
      stopThen(list, async () => {
        await identityServer.close();
        await kvServer.close();
      }));
  },
};

/** HashiCorp Vault, userpass login (so the login and revoke see faults too), KV v2. */
export const VAULT: WorldSpec = {
  name: "HashiCorp Vault",
  start(faults) {
    const list: Faulty[] = [];
    const data = seed();
    const bulk: Record<string, { data: Record<string, string> }> = {};
    const values: string[] = [];
    for (let i = 0; i < 30; i++) {
      const v = value(i);
      values.push(v);
      bulk[`bulk/f${i % 4}/s${String(i).padStart(2, "0")}`] = { data: { PASSWORD: v } };
    }
    const mount = data.namespaces[""].secret;
    mount.secrets = { ...mount.secrets, ...bulk };
    const vault = fakeVault(data);
    const inner = counted(vault.handler);
    const server = startFake(wrap(inner.handler, VAULT_ERRORS, faults, 5, list));
    return world({
      label: "HashiCorp Vault",
      env: {
        SECRETS_MANAGER: "HASHICORP_VAULT",
        SECRETS_HASHICORP_VAULT_URL: server.url,
        SECRETS_HASHICORP_VAULT_USERNAME: "ci-user",
        SECRETS_HASHICORP_VAULT_PASSWORD: USER_PASSWORD,
        SECRETS_SELECTION: "secret",
        SECRETS_HASHICORP_VAULT_CONCURRENCY: "4",
        ...TIMEOUTS,
      },
      vault: "KEEP: me\n",
      secrets: () => [
        ...values,
        ...collectValues(data),
        ...VAULT_CREDENTIALS,
        ...vault.counters.issued,
      ],
      faults: list,
      served: inner.count,
    }, () => stopThen(list, () => server.close()));
  },
};

/** Every network backend's world. */
export const WORLDS: readonly WorldSpec[] = [AWS_SM, AWS_SSM, AZURE, VAULT];

async function stopThen(list: Faulty[], close: () => Promise<void>): Promise<void> {
  for (const faulty of list) faulty.stop();
  await close();
}

function tryJson(text: string): string[] {
  try {
    const parsed = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? Object.values(parsed) : [];
  } catch {
    return [];
  }
}

function collectValues(data: ReturnType<typeof seed>): string[] {
  const out: string[] = [];
  for (const mounts of Object.values(data.namespaces)) {
    for (const mount of Object.values(mounts)) {
      for (const secret of Object.values(mount.secrets)) {
        out.push(...Object.values(secret.data).map(String));
      }
    }
  }
  return out;
}
