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
import { lockVault, readVault, renderVault, writeAtomic } from "./vault_file.ts";
import { getProvider } from "../providers/mod.ts";
import type { ProviderSettings, VaultEntry } from "../providers/types.ts";

/** What a load did (or, for a dry run, would do). */
export interface LoadResult {
  /** How many secrets the backend returned. */
  secrets: number;
  /** The merge plan. */
  plan: MergePlan;
  /** Whether the vault file was written. */
  written: boolean;
}

/** Run a load as configured. Prints stage lines through `log`; throws typed errors. */
export async function load(config: Config, log: Logger, redactor: Redactor): Promise<LoadResult> {
  const provider = getProvider(config.manager);
  const before = await readVault(config.vaultPath);
  log.debug(
    `vault ${config.vaultPath}: ${before.text === null ? "absent, starting empty" : "read"}`,
  );

  const base = {
    ...config.settings,
    cwd: Deno.cwd(),
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
  const plan = provider.sandbox(settings);
  log.info(`fetching from ${config.manager}`);
  log.debug(
    `sandbox: net=[${plan.net.join(",")}] read=[${plan.read.join(",")}] run=[${
      plan.run.join(",")
    }]`,
  );

  const secrets = await fetchSandboxed({ manager: config.manager, settings }, plan, {
    log,
    redactor,
    timeoutMs: config.timeoutMs,
  });
  const entries: VaultEntry[] = [];
  for (const secret of secrets) entries.push(...provider.map(secret, settings));
  const checked = checkEntries(entries);
  log.info(`fetched ${secrets.length} secrets, ${checked.length} vault keys`);

  if (config.dryRun) {
    const dry = planMerge(before.doc, checked);
    return { secrets: secrets.length, plan: dry, written: false };
  }

  const lock = await lockVault(config.vaultPath, config.lockTimeoutMs);
  try {
    const current = await readVault(config.vaultPath);
    const merge = planMerge(current.doc, checked);
    const changed = merge.added.length + merge.changed.length > 0;
    if (changed || current.text === null) {
      applyMerge(current.doc, checked);
      await writeAtomic(config.vaultPath, renderVault(current.doc));
    }
    log.info(
      `vault ${config.vaultPath}: ${merge.added.length} added, ${merge.changed.length} changed, ${merge.unchanged.length} unchanged`,
    );
    return { secrets: secrets.length, plan: merge, written: changed || current.text === null };
  } finally {
    lock.release();
  }
}
