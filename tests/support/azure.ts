/**
 * Shared set-up for the Azure Key Vault tests: an identity fake and a Key Vault fake on
 * their own loopback ports, the environment that points the tool at them, and scenarios of
 * runs against them.
 *
 * @module
 */

import { startFake } from "../fakes/server.ts";
import { type AzureIdentityData, azureIdentityFake } from "../fakes/azure_identity.ts";
import { azureKeyVaultFake, type KvData, type KvOptions } from "../fakes/azure_key_vault.ts";
import { type Scenario, scenario } from "./scenario.ts";
import { type World, world } from "./world.ts";

/** The test tenant. */
export const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/** The service principal used by the service-principal tests. */
export const APP_ID = "11111111-2222-3333-4444-555555555555";
/** The system-assigned managed identity. */
export const MI_ID = "66666666-7777-8888-9999-000000000000";
/** A user-assigned managed identity. */
export const USER_MI_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

/** A running pair of fakes (stopped by `close()` or `await using`). */
export interface AzureWorld extends World {
  identity: ReturnType<typeof azureIdentityFake>;
  kv: ReturnType<typeof azureKeyVaultFake>;
  identityServer: ReturnType<typeof startFake>;
  kvServer: ReturnType<typeof startFake>;
}

/** Start the identity fake and a Key Vault fake trusting it (unless `verify` is given). */
export function startAzure(
  identityData: Partial<AzureIdentityData>,
  kvData: Omit<KvData, "tenant"> & { tenant?: string },
  kvOptions: Partial<KvOptions> = {},
  latencyMs = 0,
): AzureWorld {
  const identity = azureIdentityFake({
    tenant: TENANT,
    systemIdentity: MI_ID,
    userIdentities: [USER_MI_ID],
    ...identityData,
  });
  const kv = azureKeyVaultFake({ tenant: TENANT, ...kvData }, {
    verify: identity.verify,
    ...kvOptions,
  });
  const identityServer = startFake(identity.handler);
  const kvServer = startFake(kv.handler, { latencyMs });
  return world({ identity, kv, identityServer, kvServer }, async () => {
    await identityServer.close();
    await kvServer.close();
  });
}

/** Full access for every identity the tests use. */
export const FULL_ACCESS = {
  [APP_ID]: { list: true, get: true },
  [MI_ID]: { list: true, get: true },
  [USER_MI_ID]: { list: true, get: true },
};

/** Environment for a managed-identity run through IMDS (the fake). */
export function imdsEnv(world: AzureWorld, vault: string): Record<string, string> {
  return {
    SECRETS_MANAGER: "AZURE_KEY_VAULT",
    SECRETS_AZURE_KEY_VAULT_URL: world.kvServer.url,
    AZURE_POD_IDENTITY_AUTHORITY_HOST: world.identityServer.url,
    SECRETS_VAULT_PATH: vault,
  };
}

/** Environment for a service-principal run against the fake authority. */
export function principalEnv(world: AzureWorld, vault: string): Record<string, string> {
  return {
    SECRETS_MANAGER: "AZURE_KEY_VAULT",
    SECRETS_AZURE_KEY_VAULT_URL: world.kvServer.url,
    SECRETS_AZURE_USE_MANAGED_IDENTITY: "0",
    SECRETS_AZURE_TENANT_ID: TENANT,
    SECRETS_AZURE_CLIENT_ID: APP_ID,
    AZURE_AUTHORITY_HOST: world.identityServer.url,
    SECRETS_VAULT_PATH: vault,
  };
}

/**
 * Environment for a service-principal run with the standard `AZURE_TENANT_ID` and
 * `AZURE_CLIENT_ID` and no client secret (the credential comes from a federated token).
 */
export function federatedEnv(world: AzureWorld, vault: string): Record<string, string> {
  return {
    SECRETS_MANAGER: "AZURE_KEY_VAULT",
    SECRETS_AZURE_KEY_VAULT_URL: world.kvServer.url,
    SECRETS_AZURE_USE_MANAGED_IDENTITY: "0",
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: APP_ID,
    AZURE_AUTHORITY_HOST: world.identityServer.url,
    SECRETS_VAULT_PATH: vault,
  };
}

/** A {@linkcode Scenario} of managed-identity runs against `world` ({@linkcode imdsEnv}). */
export function imdsScenario(world: AzureWorld, content?: string): Promise<Scenario> {
  return scenario((vault) => imdsEnv(world, vault), { vault: content });
}

/** A {@linkcode Scenario} of service-principal runs against `world` ({@linkcode principalEnv}). */
export function principalScenario(world: AzureWorld, content?: string): Promise<Scenario> {
  return scenario((vault) => principalEnv(world, vault), { vault: content });
}

/** `n` secrets named `APP-Sxx-PASSWORD` with random values. */
export function manySecrets(n: number): { name: string; value: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `APP-S${String(i).padStart(3, "0")}-PASSWORD`,
    value: `v-${i}-${crypto.randomUUID()}`,
  }));
}
