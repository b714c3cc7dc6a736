/**
 * The `HASHICORP_VAULT` backend: KV version 1 and 2 secrets engines over Vault's HTTP API
 * (Vault OSS, Enterprise, HCP Vault, OpenBao), with JWT (also from the CI system's OIDC
 * token), Kubernetes, AppRole, token or userpass auth and namespaces. A secret `MOUNT/A/B` with data `{K: v}` becomes the vault key `A.B.K`.
 *
 * @module
 */

import { ToolError } from "../../lib/kit/errors.ts";
import { mapPicked, mapValue, nameToPath, splitKey, stripPrefix } from "../../lib/kit/mapping.ts";
import { checkJwt } from "../../lib/kit/jwt.ts";
import { authSandbox, hashicorpVaultParams, type VaultConfig, vaultConfig } from "./config.ts";
import type {
  FetchedSecret,
  Provider,
  ProviderSettings,
  VaultEntry,
} from "../../lib/contract/provider.ts";

/**
 * Remove `SECRETS_STRIP_PREFIX` from a secret's `MOUNT/PATH`: matched against `MOUNT/PATH`
 * when it starts with the mount and a slash and matches there, else against the path below
 * the mount. Returns the path below the mount that is left (without its leading slash). The
 * mount is `mountName` when given (it may contain slashes), else the first segment.
 */
export function stripMountedPrefix(
  name: string,
  prefix: string | undefined,
  mountName?: string,
): string {
  const cut = mountName !== undefined && name.startsWith(`${mountName}/`)
    ? mountName.length + 1
    : name.indexOf("/") + 1;
  const mount = name.slice(0, cut);
  const below = cut === 0 ? "" : name.slice(cut);
  const left = prefix && mount !== "" && prefix.startsWith(mount) && name.startsWith(prefix)
    ? name.slice(prefix.length)
    : stripPrefix(below, prefix);
  // One leading slash is the root, as for every backend (lib/kit/mapping.ts nameToPath).
  return left.startsWith("/") ? left.slice(1) : left;
}

/**
 * Map one KV secret: its path below the mount (after `SECRETS_STRIP_PREFIX`, slashes to
 * dots), then each data key.
 */
export function mapVaultSecret(secret: FetchedSecret, settings: ProviderSettings): VaultEntry[] {
  const data = secret.value;
  if (typeof data !== "object" || data === null) {
    throw new ToolError("conflict", `secret "${secret.name}" has no key/value data`);
  }
  const named = () => {
    const below = stripMountedPrefix(secret.name, settings.stripPrefix, secret.mount);
    // A secret stripped to nothing puts its keys at the top level of the vault.
    return below === "" ? [] : nameToPath(below, "/", undefined, secret.name);
  };
  return mapPicked(secret, settings, named, (under) => {
    const base = under ?? named();
    const entries: VaultEntry[] = [];
    for (const [key, value] of Object.entries(data)) {
      const path = [...base, ...splitKey(key, secret.name)];
      entries.push(...mapValue(path, { ...secret, value }, settings.expandJson));
    }
    return entries;
  });
}

/** The `HASHICORP_VAULT` provider. */
export const hashicorpVaultProvider: Provider<VaultConfig> = {
  backend: "HASHICORP_VAULT",
  params: hashicorpVaultParams,
  configure(settings) {
    const config = vaultConfig(settings);
    // Fail before any network call when the JWT is malformed or expired.
    const { auth } = config;
    if (auth.method === "jwt" && auth.token.kind === "env") checkJwt(auth.token.token, auth.source);
    return config;
  },
  sandbox(config) {
    const auth = authSandbox(config.auth);
    return {
      net: [...new Set([config.hostPort, ...auth.net])],
      read: [...(config.caCert ? [config.caCert] : []), ...auth.read],
      run: [],
    };
  },
  loadFetch: () => import("./fetch.ts"),
  map: mapVaultSecret,
};
