/**
 * Credentials a backend keeps in the vault (`AWS.DEFAULT.S3_KEY` ...), read in the core
 * Worker, which loads the vault engine anyway: the main thread asks for them by path and
 * never loads YAML (or JOSE for an encrypted vault) itself.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { ToolError } from "../kit/errors.ts";
import { openVaultStore } from "../vault/store.ts";
import { lookup } from "../vault/tree.ts";

/**
 * The values at `paths` in the vault (absent paths left out). A path naming a namespace is
 * a `config` error; an unreadable vault is the store's error.
 */
export async function readCredentials(
  config: Pick<Config, "vaultPath" | "vaultKey">,
  paths: readonly string[],
): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  if (paths.length === 0) return found;
  const before = await openVaultStore(config.vaultPath, config.vaultKey).read();
  const tree = before.doc.tree();
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
