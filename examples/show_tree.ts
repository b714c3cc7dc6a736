/**
 * Print a vault's key tree with every value masked (used by `make demo`).
 *
 * @module
 */

import { parseDocument } from "../lib/vault/yaml.ts";

/** Render a parsed vault as an indented tree of keys, masking every leaf. */
export function maskedTree(value: unknown, indent = ""): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) =>
    child !== null && typeof child === "object" && !Array.isArray(child)
      ? [`${indent}${key}:`, ...maskedTree(child, `${indent}  `)]
      : [`${indent}${key}: ********`]
  );
}

if (import.meta.main) {
  const text = await Deno.readTextFile(Deno.args[0]);
  console.log(maskedTree(parseDocument(text).toJS()).join("\n"));
}
