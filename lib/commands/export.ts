/**
 * `export --format dotenv|env|json|yaml [--prefix P] [PATH]`: flatten the vault (or the
 * subtree at PATH) into variables named by joining the key segments below PATH with `_`
 * (characters other than letters, digits and `_` become `_`), prefixed with P.
 *
 * - `dotenv`: `NAME='value'` lines; `env`: `export NAME='value'` lines. Values are single-
 *   quoted for POSIX `sh` (a `'` becomes `'\''`), so sourcing the file gives back every
 *   value exactly: quotes, `$`, backticks, backslashes, newlines.
 * - `json`/`yaml`: one mapping of NAME to value (numbers and booleans keep their type;
 *   YAML strings are double-quoted so no reader re-types them).
 *
 * @module
 */

import { ToolError } from "../kit/errors.ts";
import { stringify } from "../vault/yaml.ts";
import { portableTags } from "../vault/portable.ts";
import { isTree, leaves, lookup, type VaultLeaf, type VaultTree } from "../vault/tree.ts";
import { checkPath, missingKey } from "./paths.ts";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Quote a value for POSIX `sh`: single quotes, each `'` as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The variable name of a leaf: its segments below the exported path, joined with `_`. */
export function variableName(segments: readonly string[], prefix: string): string {
  return `${prefix}${segments.join("_")}`.replace(/[^A-Za-z0-9_]/g, "_");
}

/** The leaves to export, their segments relative to `base` (the namespace exported). */
function selected(
  tree: VaultTree,
  path: string | undefined,
  vaultPath: string,
): { base: string[]; found: VaultLeaf[] } {
  if (path === undefined) return { base: [], found: leaves(tree) };
  checkPath(path);
  const node = lookup(tree, path);
  if (node === undefined) throw missingKey(path, vaultPath);
  const segments = path.split(".");
  if (isTree(node)) return { base: segments, found: leaves(node) };
  return { base: segments.slice(0, -1), found: leaves(node, segments.slice(-1)) };
}

/** The text `export` prints. */
export function exportText(
  tree: VaultTree,
  path: string | undefined,
  format: string,
  prefix: string,
  vaultPath: string,
): string {
  const { base, found } = selected(tree, path, vaultPath);
  const named = new Map<string, VaultLeaf>();
  const shell = format === "dotenv" || format === "env";
  for (const leaf of found) {
    const name = variableName(leaf.path, prefix);
    const key = [...base, ...leaf.path].join(".");
    if (shell && !NAME.test(name)) {
      throw new ToolError(
        "config",
        `vault key ${key} gives the variable name ${name}, which is not a valid one; set --prefix to a name start such as S_`,
      );
    }
    const twin = named.get(name);
    if (twin) {
      throw new ToolError(
        "conflict",
        `vault keys ${
          [...base, ...twin.path].join(".")
        } and ${key} both export as ${name}; export a narrower PATH`,
      );
    }
    if (shell && typeof leaf.value === "string" && leaf.value.includes("\0")) {
      throw new ToolError(
        "config",
        `vault key ${key} holds a NUL character, which no environment variable can hold; use --format json`,
      );
    }
    named.set(name, leaf);
  }
  const entries = [...named.entries()];
  switch (format) {
    case "dotenv":
    case "env": {
      const lead = format === "env" ? "export " : "";
      return entries.map(([name, leaf]) => `${lead}${name}=${shellQuote(String(leaf.value))}\n`)
        .join("");
    }
    case "json":
      return `${
        JSON.stringify(Object.fromEntries(entries.map(([n, l]) => [n, l.value])), null, 2)
      }\n`;
    default: {
      if (entries.length === 0) return "{}\n";
      return stringify(Object.fromEntries(entries.map(([n, l]) => [n, l.value])), {
        lineWidth: 0,
        defaultStringType: "QUOTE_DOUBLE",
        defaultKeyType: "PLAIN",
        customTags: portableTags,
      });
    }
  }
}
