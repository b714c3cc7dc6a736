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
 * - `github-env`: `NAME<<DELIMITER` blocks for GitHub Actions' `$GITHUB_ENV` and
 *   `$GITHUB_OUTPUT` files; each delimiter is random and checked not to occur in its value,
 *   so the runner reads every value back exactly (multi-line, CR, trailing newlines).
 * - `files` (with `--output-dir DIR`): one file per variable, `DIR/NAME`, holding the value
 *   exactly, written atomically with mode 0600.
 *
 * @module
 */

import { ToolError } from "../kit/errors.ts";
import { writeAtomicSync } from "../vault/file.ts";
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

/** The formats whose names must be variable names. */
const NAMED_FORMATS = new Set(["dotenv", "env", "github-env", "files"]);
/** The formats whose values must fit an environment variable (no NUL). */
const ENV_FORMATS = new Set(["dotenv", "env", "github-env"]);

/** One variable `export` (or `run`) makes: the vault key it comes from and its value. */
export interface ExportedVariable {
  /** The dotted vault key. */
  key: string;
  /** The leaf's value. */
  value: VaultLeaf["value"];
}

/** What the variables must be fit for. */
export interface VariableChecks {
  /** Names must be valid variable names (shell formats, files, `run`). */
  names: boolean;
  /** Values must fit an environment variable: no NUL. */
  environment: boolean;
}

/** The checks of an `export` format. */
export function formatChecks(format: string): VariableChecks {
  return { names: NAMED_FORMATS.has(format), environment: ENV_FORMATS.has(format) };
}

/**
 * The variables of the leaves at each of `paths` (undefined: the whole vault), by name.
 * Two keys giving one name are a `conflict`; a name that is not a valid variable name, or
 * a value holding NUL, is a `config` error when `checks` asks for it.
 */
export function exportVariables(
  tree: VaultTree,
  paths: readonly (string | undefined)[],
  prefix: string,
  vaultPath: string,
  checks: VariableChecks,
): Map<string, ExportedVariable> {
  const named = new Map<string, ExportedVariable>();
  for (const path of paths) {
    const { base, found } = selected(tree, path, vaultPath);
    for (const leaf of found) {
      const name = variableName(leaf.path, prefix);
      const key = [...base, ...leaf.path].join(".");
      if (checks.names && !NAME.test(name)) {
        throw new ToolError(
          "config",
          `vault key ${key} gives the variable name ${name}, which is not a valid one; set --prefix to a name start such as S_`,
        );
      }
      const twin = named.get(name);
      if (twin?.key === key) continue;
      if (twin) {
        throw new ToolError(
          "conflict",
          `vault keys ${twin.key} and ${key} both export as ${name}; export a narrower PATH`,
        );
      }
      if (checks.environment && typeof leaf.value === "string" && leaf.value.includes("\0")) {
        throw new ToolError(
          "config",
          `vault key ${key} holds a NUL character, which no environment variable can hold; use --format json`,
        );
      }
      named.set(name, { key, value: leaf.value });
    }
  }
  return named;
}

function named(
  tree: VaultTree,
  path: string | undefined,
  format: string,
  prefix: string,
  vaultPath: string,
): [string, ExportedVariable][] {
  return [...exportVariables(tree, [path], prefix, vaultPath, formatChecks(format)).entries()];
}

/** A delimiter for one value: random, and not found anywhere in the value. */
export function heredocDelimiter(value: string): string {
  for (;;) {
    const delimiter = `ghadelimiter_${crypto.randomUUID()}`;
    if (!value.includes(delimiter)) return delimiter;
  }
}

/** The text `export` prints. */
export function exportText(
  tree: VaultTree,
  path: string | undefined,
  format: string,
  prefix: string,
  vaultPath: string,
): string {
  const entries = named(tree, path, format, prefix, vaultPath);
  switch (format) {
    case "github-env":
      // The runner takes everything between the `<<` line and the delimiter line, less the
      // newline before the delimiter: the value comes back byte for byte.
      return entries.map(([name, leaf]) => {
        const value = String(leaf.value);
        const delimiter = heredocDelimiter(value);
        return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
      }).join("");
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

/**
 * `export --format files`: write each variable to `dir/NAME` (mode 0600, atomically), the
 * folder created (0700) when missing. Returns the names written.
 */
export async function exportFiles(
  tree: VaultTree,
  path: string | undefined,
  prefix: string,
  vaultPath: string,
  dir: string,
): Promise<string[]> {
  const entries = named(tree, path, "files", prefix, vaultPath);
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ToolError(
      "vault",
      `cannot create the output folder ${dir} (${error instanceof Error ? error.name : error})`,
    );
  }
  for (const [name, leaf] of entries) {
    writeAtomicSync(`${dir}/${name}`, String(leaf.value), "the exported file");
  }
  return entries.map(([name]) => name);
}
