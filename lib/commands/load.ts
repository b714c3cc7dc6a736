/**
 * The `load` command's second half (core Worker): map the fetched secrets to vault keys
 * and merge them into the vault under its lock. All or nothing: any failure leaves the
 * vault byte-for-byte as it was. The first half, in the main thread, is
 * `lib/cli/prepare.ts`.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { Logger } from "../output/log.ts";
import { checkEntries, type MergePlan, planMerge } from "../vault/merge.ts";
import { lockVault, removeStaleTempsSync } from "../vault/file.ts";
import { openVaultStore, type StoredVault, warnPlainLeftover } from "../vault/store.ts";
import { encryptedPath, manifestPath } from "../vault/paths.ts";
import {
  commitLoad,
  type KeyProvenance,
  type Manifest,
  readMatchingManifest,
} from "../vault/manifest.ts";
import type { Fetched } from "./run.ts";

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

/**
 * Merge fetched secrets into the vault (core Worker): take their vault keys, check conflicts,
 * then under the vault's lock read, merge and write atomically (or, for a dry run,
 * only compute the plan). `ahead` is a read of the plain vault made while the backend
 * fetched: kept when the file is still the same, so the parse is off the load's path.
 * Prints stage lines through `log`; throws typed errors.
 */
export async function mergeSecrets(
  config: Config,
  fetched: Fetched,
  log: Logger,
  ahead?: Promise<StoredVault>,
): Promise<LoadResult> {
  const { count, entries, provenance } = fetched();
  const store = openVaultStore(config.vaultPath, config.vaultKey);
  const checked = checkEntries(entries);
  // The vault is read (and parsed) once: without the lock for a dry run, else under it.
  const opened = async () => {
    // A failed early read is made again here, where its error is the load's.
    const earlier = await ahead?.catch(() => undefined);
    const vault = earlier ? await store.readAgain(earlier) : await store.read();
    warnPlainLeftover(store, vault, log);
    log.debug(
      `vault ${config.vaultPath}: ${vault.text === null ? "absent, starting empty" : "read"}`,
    );
    log.info(`fetched ${count} secrets, ${checked.length} vault keys`);
    return vault;
  };

  if (config.dryRun) {
    const before = await opened();
    const dry = planMerge(before.doc, checked);
    const previous = await readMatchingManifest(store, before, log);
    return { secrets: count, plan: dry, written: false, provenance, previous };
  }

  const lock = await lockVault(config.vaultPath, config.lockTimeoutMs);
  try {
    const stale = removeStaleTempsSync([
      config.vaultPath,
      encryptedPath(config.vaultPath),
      manifestPath(config.vaultPath),
    ]);
    if (stale > 0) log.debug(`removed ${stale} temp files left by an interrupted run`);
    const current = await opened();
    const merge = planMerge(current.doc, checked);
    const write = merge.added.length + merge.changed.length > 0 || !current.exists;
    if (write) current.doc.apply(checked);
    const text = write ? await current.doc.render() : null;
    await commitLoad({
      store,
      vault: current,
      text,
      fetched: provenance,
      backend: config.backend,
      log,
    });
    log.info(
      `vault ${store.path}: ${merge.added.length} added, ${merge.changed.length} changed, ${merge.unchanged.length} unchanged`,
    );
    return { secrets: count, plan: merge, written: write, provenance, previous: null };
  } finally {
    lock.release();
  }
}
