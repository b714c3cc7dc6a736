/**
 * The `load` command's first half (main thread): read the credentials the backend keeps
 * in the vault, compute the backend's sandbox plan, and fetch the secrets in that
 * sandbox. The second half, the merge, runs in the core Worker (`load.ts`).
 *
 * @module
 */

import type { Config } from "./config.ts";
import { ToolError } from "../kit/errors.ts";
import type { Logger } from "../output/log.ts";
import type { Redactor } from "../output/redact.ts";
import { fetchSandboxed } from "../isolation/backend_host.ts";
import { getProvider } from "../../providers/registry.ts";
import type { FetchedSecret, ProviderSettings, SandboxPlan } from "../contract/provider.ts";

/** What `load` needs that only the main thread can compute: the settings and the plan. */
export interface PreparedLoad {
  /** The provider's settings, with the credentials read from the existing vault. */
  settings: ProviderSettings;
  /** The hosts, files and programs the backend may use in this run. */
  plan: SandboxPlan;
}

/**
 * Prepare a load in the main thread: validate the backend's settings, read the credentials
 * it needs from the existing vault, and compute its sandbox plan.
 */
export async function prepareLoad(
  config: Config,
  cwd: string,
  redactor: Redactor,
): Promise<PreparedLoad> {
  const provider = getProvider(config.manager);
  const base = {
    ...config.settings,
    cwd,
    vaultCredentials: {},
    deadline: Date.now() + config.timeoutMs,
  };
  const paths = provider.credentialPaths(base);
  const vaultCredentials: Record<string, string> = {};
  if (paths.length > 0) {
    // The vault engine (YAML, and JOSE for an encrypted vault) is loaded only when the
    // backend keeps credentials in the vault: most loads start without it.
    const [{ openVaultStore }, { getIn }] = await Promise.all([
      import("../vault/store.ts"),
      import("../vault/query.ts"),
    ]);
    const before = await openVaultStore(config.vaultPath, config.vaultKey).read();
    for (const path of paths) {
      const value = getIn(before.doc, path);
      if (value === undefined) continue;
      if (typeof value === "object") {
        throw new ToolError(
          "config",
          `vault key ${path} is a namespace, not a credential value; fix the vault or its location setting`,
        );
      }
      vaultCredentials[path] = String(value);
      redactor.add(String(value));
    }
  }
  const settings: ProviderSettings = { ...base, vaultCredentials };
  return { settings, plan: provider.sandbox(settings) };
}

/**
 * Fetch the selected secrets in the backend's sandbox (main thread). Every value is
 * registered with `redactor` as it arrives, then handed to `onSecret`. Resolves with the
 * number of secrets fetched.
 */
export async function fetchSecrets(
  config: Config,
  prepared: PreparedLoad,
  log: Logger,
  redactor: Redactor,
  onSecret: (secret: FetchedSecret) => void,
): Promise<number> {
  const { settings, plan } = prepared;
  log.info(`fetching from ${config.manager}`);
  log.debug(
    `backend sandbox: net=[${plan.net.join(",")}] read=[${plan.read.join(",")}] run=[${
      plan.run.join(",")
    }]`,
  );
  return await fetchSandboxed({ manager: config.manager, settings }, plan, {
    log,
    redactor,
    onSecret,
    timeoutMs: config.timeoutMs,
  });
}
