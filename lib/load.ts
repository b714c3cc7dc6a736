/**
 * The `load` command: fetch the selected secrets in the sandbox, map them to vault keys,
 * and merge them into the vault under its lock. All or nothing: any failure leaves the
 * vault byte-for-byte as it was.
 *
 * @module
 */

import { getIn } from "./vault_query.ts";
import type { Config } from "./config.ts";
import { ConfigError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { applyMerge, checkEntries, type MergePlan, planMerge } from "./merge.ts";
import type { Redactor } from "./redact.ts";
import { fetchSandboxed } from "./sandbox.ts";
import { lockVault, removeStaleTemps, renderVault } from "./vault_file.ts";
import { encryptedPath, openVaultStore, warnPlainLeftover } from "./vault_store.ts";
import {
  commitLoad,
  type KeyProvenance,
  type Manifest,
  manifestPath,
  mapWithProvenance,
  readMatchingManifest,
} from "./manifest.ts";
import { getProvider } from "../providers/mod.ts";
import type { FetchedSecret, ProviderSettings, SandboxPlan } from "../providers/types.ts";

/** What a load did (or, for a dry run, would do). */
export interface LoadResult {
  /** How many secrets the backend returned. */
  secrets: number;
  /** The merge plan. */
  plan: MergePlan;
  /** Whether the vault file was written. */
  written: boolean;
  /** Provenance of every fetched key. */
  provenance: Map<string, KeyProvenance>;
  /** Dry run: the manifest of the vault as it is (null when absent or stale). */
  previous: Manifest | null;
}

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
  const store = openVaultStore(config.vaultPath, config.vaultKey);
  const before = await store.read();
  const base = {
    ...config.settings,
    cwd,
    vaultCredentials: {},
    deadline: Date.now() + config.timeoutMs,
  };
  const paths = provider.credentialPaths(base);
  const vaultCredentials: Record<string, string> = {};
  for (const path of paths) {
    const value = getIn(before.doc, path);
    if (value === undefined) continue;
    if (typeof value === "object") {
      throw new ConfigError(
        `vault key ${path} is a namespace, not a credential value; fix the vault or its location setting`,
      );
    }
    vaultCredentials[path] = String(value);
    redactor.add(String(value));
  }
  const settings: ProviderSettings = { ...base, vaultCredentials };
  return { settings, plan: provider.sandbox(settings) };
}

/**
 * Fetch the selected secrets in the backend's sandbox (main thread). Every value is
 * registered with `redactor` as it arrives.
 */
export async function fetchSecrets(
  config: Config,
  prepared: PreparedLoad,
  log: Logger,
  redactor: Redactor,
): Promise<FetchedSecret[]> {
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
    timeoutMs: config.timeoutMs,
  });
}

/**
 * Merge fetched secrets into the vault (core Worker): map them to keys, check conflicts,
 * then under the vault's lock re-read, merge and write atomically (or, for a dry run,
 * only compute the plan). Prints stage lines through `log`; throws typed errors.
 */
export async function mergeSecrets(
  config: Config,
  settings: ProviderSettings,
  secrets: readonly FetchedSecret[],
  log: Logger,
): Promise<LoadResult> {
  const provider = getProvider(config.manager);
  const store = openVaultStore(config.vaultPath, config.vaultKey);
  const before = await store.read();
  await warnPlainLeftover(store, before, log);
  log.debug(
    `vault ${config.vaultPath}: ${before.text === null ? "absent, starting empty" : "read"}`,
  );
  const { entries, provenance } = mapWithProvenance(provider, secrets, settings, new Date());
  const checked = checkEntries(entries);
  log.info(`fetched ${secrets.length} secrets, ${checked.length} vault keys`);

  if (config.dryRun) {
    const dry = planMerge(before.doc, checked);
    const previous = await readMatchingManifest(store, before, log);
    return { secrets: secrets.length, plan: dry, written: false, provenance, previous };
  }

  const lock = await lockVault(config.vaultPath, config.lockTimeoutMs);
  try {
    const stale = await removeStaleTemps([
      config.vaultPath,
      encryptedPath(config.vaultPath),
      manifestPath(config.vaultPath),
    ]);
    if (stale > 0) log.debug(`removed ${stale} temp files left by an interrupted run`);
    const current = await store.read();
    const merge = planMerge(current.doc, checked);
    const write = merge.added.length + merge.changed.length > 0 || !current.exists;
    if (write) applyMerge(current.doc, checked);
    const text = write ? renderVault(current.doc) : null;
    await commitLoad({
      store,
      vault: current,
      text,
      fetched: provenance,
      backend: config.manager,
      log,
    });
    log.info(
      `vault ${store.path}: ${merge.added.length} added, ${merge.changed.length} changed, ${merge.unchanged.length} unchanged`,
    );
    return { secrets: secrets.length, plan: merge, written: write, provenance, previous: null };
  } finally {
    lock.release();
  }
}
