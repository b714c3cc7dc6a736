/**
 * `get PATH [--format yaml|json]`: one value, or a namespace as a document.
 *
 * A leaf is printed exactly as stored (no newline added unless stdout is a terminal), so
 * `get KEY > file` and `"$(get KEY)"` give the value back. `--format json` prints it as a
 * JSON value; a namespace prints as YAML (default) or JSON.
 *
 * @module
 */

import { stringify } from "../vault/yaml.ts";
import { portableTags } from "../vault/portable.ts";
import { isTree, leafText, lookup, type VaultTree } from "../vault/tree.ts";
import { checkPath, missingKey } from "./paths.ts";

/** The text `get` prints for `path` in `tree`. Throws when the path is not in the vault. */
export function getText(
  tree: VaultTree,
  path: string,
  format: string | undefined,
  vaultPath: string,
  terminal = false,
): string {
  checkPath(path);
  const value = lookup(tree, path);
  if (value === undefined) throw missingKey(path, vaultPath);
  if (isTree(value) || Array.isArray(value)) {
    if (format === "json") return `${JSON.stringify(value, null, 2)}\n`;
    return stringify(value, { lineWidth: 0, customTags: portableTags });
  }
  if (format === "json") return `${JSON.stringify(value)}\n`;
  if (format === "yaml") return stringify(value, { lineWidth: 0, customTags: portableTags });
  const text = leafText(value);
  return terminal && !text.endsWith("\n") ? `${text}\n` : text;
}
