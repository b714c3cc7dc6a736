/**
 * Credentials a backend keeps in the vault (`AWS.DEFAULT.S3_KEY` ...). The main thread
 * reads them itself from a plain vault in this tool's own form (no `yaml` needed), so the
 * backend Worker can start first; from any other vault the core Worker reads them, so
 * YAML and JOSE never load in the isolate that can read the environment.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { ToolError } from "../kit/errors.ts";
import { newMapping, parseCanonical } from "../vault/canonical.ts";
import { canonicalTree } from "../vault/canonical_document.ts";
import { encryptedPath } from "../vault/paths.ts";
import {
  MAX_VAULT_BYTES,
  readRegularTextSync,
  regularFileInfoSync,
} from "../vault/regular_file.ts";
import { openVaultStore } from "../vault/store.ts";
import { lookup, type VaultTree } from "../vault/tree.ts";

function pick(tree: VaultTree, paths: readonly string[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (const path of paths) {
    const value = lookup(tree, path);
    if (value === undefined) continue;
    if (typeof value === "object") {
      throw new ToolError(
        "config",
        `vault key ${path} is a namespace, not a credential value; fix the vault or its location setting`,
      );
    }
    found[path] = String(value);
  }
  return found;
}

/**
 * The values at `paths` in the vault (absent paths left out). A path naming a namespace is
 * a `config` error; an unreadable vault is the store's error.
 */
export async function readCredentials(
  config: Pick<Config, "vaultPath" | "vaultKey">,
  paths: readonly string[],
): Promise<Record<string, string>> {
  if (paths.length === 0) return {};
  const before = await openVaultStore(config.vaultPath, config.vaultKey).read();
  return pick(before.doc.tree(), paths);
}

/**
 * The values at `paths`, as {@linkcode readCredentials} gives them, when the vault is plain
 * and in this tool's own form (or absent); null when it is encrypted or in any other form
 * (then ask the core Worker). Loads neither `yaml` nor `jose`.
 */
export function readOwnFormCredentialsSync(
  config: Pick<Config, "vaultPath" | "vaultKey">,
  paths: readonly string[],
): Record<string, string> | null {
  if (paths.length === 0) return {};
  if (config.vaultKey !== undefined) return null;
  // An encrypted vault without its key is the store's error to report.
  if (regularFileInfoSync(encryptedPath(config.vaultPath), "the encrypted vault")) return null;
  const text = readRegularTextSync(config.vaultPath, "the vault", MAX_VAULT_BYTES);
  const root = text === null || text === "" ? newMapping() : parseCanonical(text);
  return root === null ? null : pick(canonicalTree(root), paths);
}
