/**
 * The `HASHICORP_VAULT` backend: KV version 1 and 2 secrets engines over Vault's HTTP API
 * (Vault OSS, Enterprise, HCP Vault, OpenBao), with JWT, token or userpass auth and
 * namespaces. A secret `MOUNT/A/B` with data `{K: v}` becomes the vault key `A.B.K`.
 *
 * @module
 */

import { ToolError } from "../../lib/kit/errors.ts";
import { mapValue, nameToPath, splitKey, stripPrefix } from "../../lib/kit/mapping.ts";
import { createAdaptiveLimiter } from "../../lib/kit/limiters.ts";
import { authenticate, checkJwt, revokeSession, type VaultSession } from "./auth.ts";
import { hashicorpVaultParams, vaultConfig } from "./config.ts";
import { createVaultClient } from "./http.ts";
import { checkMount, type KvContext, walkSelectors } from "./kv.ts";
import type {
  FetchedSecret,
  Provider,
  ProviderSettings,
  VaultEntry,
} from "../../lib/contract/provider.ts";

/** The path below the mount of a fetched secret's name (`MOUNT/PATH`). */
function belowMount(name: string): string {
  const slash = name.indexOf("/");
  return slash < 0 ? "" : name.slice(slash + 1);
}

/**
 * Remove `SECRETS_STRIP_PREFIX` from a secret's `MOUNT/PATH`: matched against `MOUNT/PATH`
 * when it starts with the mount and a slash and matches there, else against the path below
 * the mount. Returns the path below the mount that is left (without edge slashes).
 */
export function stripMountedPrefix(name: string, prefix: string | undefined): string {
  const mount = name.slice(0, name.indexOf("/") + 1);
  const left = prefix && mount !== "" && prefix.startsWith(mount) && name.startsWith(prefix)
    ? name.slice(prefix.length)
    : stripPrefix(belowMount(name), prefix);
  return left.replace(/^\/+|\/+$/g, "");
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
  const below = stripMountedPrefix(secret.name, settings.stripPrefix);
  // A secret stripped to nothing puts its keys at the top level of the vault.
  const base = below === "" ? [] : nameToPath(below, "/", undefined, secret.name);
  const entries: VaultEntry[] = [];
  for (const [key, value] of Object.entries(data)) {
    const path = [...base, ...splitKey(key, secret.name)];
    entries.push(...mapValue(path, { ...secret, value }, settings.expandJson));
  }
  return entries;
}

/** The `HASHICORP_VAULT` provider. */
export const hashicorpVaultProvider: Provider = {
  manager: "HASHICORP_VAULT",
  params: hashicorpVaultParams,
  credentialPaths(settings) {
    const config = vaultConfig(settings);
    // Fail before any network call when the JWT is malformed or expired.
    if (config.auth.method === "jwt") checkJwt(config.auth.jwt, config.auth.source);
    return [];
  },
  sandbox(settings) {
    const config = vaultConfig(settings);
    return { net: [config.hostPort], read: config.caCert ? [config.caCert] : [], run: [] };
  },
  async fetch(ctx) {
    const { settings, log } = ctx;
    const config = vaultConfig(settings);
    let caPem: string | undefined;
    if (config.caCert) {
      try {
        caPem = await Deno.readTextFile(config.caCert);
      } catch (error) {
        throw new ToolError(
          "config",
          `SECRETS_HASHICORP_VAULT_CACERT ${config.caCert} cannot be read (${
            error instanceof Error ? error.name : error
          })`,
        );
      }
    }
    // The work stops a little before the overall deadline, so that a login token can
    // still be revoked when the run times out.
    const reserve = Math.min(2000, Math.max(0, settings.deadline - Date.now()) * 0.2);
    const workDeadline = settings.deadline - reserve;
    const stop = new AbortController();
    const stopTimer = setTimeout(() => stop.abort(), Math.max(0, workDeadline - Date.now()));
    const limiter = createAdaptiveLimiter(config.concurrency);
    const client = createVaultClient({
      url: config.url,
      namespace: config.namespace,
      caPem,
      deadline: workDeadline,
      timeoutMs: settings.requestTimeoutMs,
      signal: AbortSignal.any([ctx.signal, stop.signal]),
      log,
      onThrottle: () => limiter.throttled(),
    });
    let session: VaultSession | undefined;
    try {
      session = await authenticate(client, config.auth, ctx.sensitive);
      log.debug(`authenticated with ${session.via}`);
      const kv: KvContext = {
        client,
        token: session.token,
        via: session.via,
        version: config.kvVersion,
        limiter,
        log,
        filter: settings.filter,
        allowMissing: settings.allowMissing,
        emit: ctx.emit,
      };
      const mounts = [...new Set(config.selectors.map((s) => s.mount))];
      // The mount checks and the walk start together (one round trip less); a check's
      // error (wrong engine or KV version) still wins over what the walk then hits.
      const checks = Promise.all(mounts.map((mount) => checkMount(kv, mount)));
      const walk = walkSelectors(kv, config.selectors);
      walk.catch(() => {}); // rethrown below, after the checks
      await checks;
      const count = await walk;
      log.debug(`read ${count} secrets from ${mounts.join(", ")}`);
    } finally {
      clearTimeout(stopTimer);
      if (session?.owned) {
        const problem = await revokeSession(client, session, settings.deadline);
        if (problem) log.warn(problem);
        else log.debug("revoked the login token");
      }
      client.close();
    }
  },
  map: mapVaultSecret,
};
