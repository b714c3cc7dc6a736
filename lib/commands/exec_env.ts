/**
 * The variables `run` gives its command: the leaves at each PATH (the whole vault when
 * none is given), named as `export` names them (segments below PATH joined with `_`,
 * `--prefix` in front), with the same rules: two keys giving one name are a conflict
 * (exit 5), a name that is not a valid variable name or a value holding NUL is a
 * configuration error (exit 2).
 *
 * @module
 */

import type { VaultEntry } from "../contract/provider.ts";
import { leafText, type VaultTree } from "../vault/tree.ts";
import { exportVariables } from "./export.ts";

/**
 * The fetched entries (already checked against each other) as a vault tree. Namespaces have
 * no prototype, so a key such as `__proto__` or `constructor` is an ordinary key.
 */
export function entriesTree(entries: readonly VaultEntry[]): VaultTree {
  const tree: VaultTree = Object.create(null);
  for (const entry of entries) {
    let node = tree;
    for (const segment of entry.path.slice(0, -1)) {
      if (!Object.hasOwn(node, segment)) node[segment] = Object.create(null);
      node = node[segment] as VaultTree;
    }
    node[entry.path[entry.path.length - 1]] = entry.value;
  }
  return tree;
}

/**
 * The variables for `run`, by name: the leaves at `paths` (none: every leaf) of `tree`,
 * their values as text. `where` names the vault (or backend) in messages.
 */
export function childVariables(
  tree: VaultTree,
  paths: readonly string[],
  prefix: string,
  where: string,
): Record<string, string> {
  const named = exportVariables(
    tree,
    paths.length > 0 ? paths : [undefined],
    prefix,
    where,
    { names: true, environment: true },
  );
  return Object.fromEntries(
    [...named].map(([name, variable]) => [name, leafText(variable.value)]),
  );
}
