/**
 * `render FILE [-o OUT]`: replace vault references in a template with vault values.
 *
 * References: `DATAOPS_VAULT(PATH)`, `{{ PATH }}` and `{{ PATH | default('x') }}` (or
 * `default("x")`). `${{ ... }}` (GitHub Actions expressions) is left alone, as is any
 * `{{ ... }}` that is not a reference. An undefined path without a default, or a path
 * naming a namespace, is an error naming the path and the template line; then nothing is
 * printed or written.
 *
 * @module
 */

import { ToolError } from "../kit/errors.ts";
import { isTree, leafText, lookup, type VaultTree } from "../vault/tree.ts";

const PATH = String.raw`[A-Za-z0-9_][A-Za-z0-9_.\-]*`;
const DEFAULT = String.raw`\|\s*default\(\s*(?:'([^'\n]*)'|"([^"\n]*)")\s*\)\s*`;

/** One reference: `${{`-guard, path, default (single or double quoted), or macro path. */
const REFERENCE = new RegExp(
  String.raw`(\$?)\{\{\s*(${PATH})\s*(?:${DEFAULT})?\}\}|DATAOPS_VAULT\(\s*(${PATH})\s*\)`,
  "g",
);

/** A reference that could not be resolved. */
interface Problem {
  path: string;
  line: number;
  why: string;
}

/**
 * Render template text against the vault. Throws a `vault` {@linkcode ToolError} listing the
 * unresolved references (path and line) when any has no value and no default.
 */
export function renderTemplate(template: string, tree: VaultTree, file: string): string {
  const problems: Problem[] = [];
  let line = 1;
  let scanned = 0;
  const out = template.replace(
    REFERENCE,
    (
      match,
      guard: string,
      path?: string,
      single?: string,
      double?: string,
      macro?: string,
      offset?: number,
    ) => {
      if (guard === "$") return match;
      for (; scanned < (offset ?? 0); scanned++) if (template[scanned] === "\n") line++;
      const key = (path ?? macro)!;
      const fallback = single ?? double;
      const value = lookup(tree, key);
      if (value === undefined || key.split(".").includes("")) {
        if (fallback !== undefined) return fallback;
        problems.push({ path: key, line, why: "is not in the vault and has no default" });
        return match;
      }
      if (isTree(value) || Array.isArray(value)) {
        problems.push({ path: key, line, why: "is a namespace, not a value" });
        return match;
      }
      return leafText(value);
    },
  );
  if (problems.length > 0) {
    const [first, ...more] = problems;
    const rest = more.length === 0
      ? ""
      : `; also ${more.slice(0, 5).map((p) => `${p.path} (line ${p.line})`).join(", ")}${
        more.length > 5 ? ` and ${more.length - 5} more` : ""
      }`;
    throw new ToolError(
      "vault",
      `template ${file} line ${first.line}: vault key ${first.path} ${first.why}${rest}; nothing was written`,
    );
  }
  return out;
}

/** Read a template file; an unreadable one is a configuration error. */
export async function readTemplate(file: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    const cause = error instanceof Deno.errors.NotFound
      ? "it does not exist"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new ToolError("config", `cannot read the template ${file}: ${cause}`);
  }
}
