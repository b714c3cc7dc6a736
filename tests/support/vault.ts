/**
 * The one vault reader of the tests: read a vault file and parse it (`yaml`'s `parse`,
 * which throws on any YAML error), and walk dotted paths in the result.
 *
 * @module
 */

import { parse } from "yaml";

/** Parse vault text as a plain object. */
export function parseVaultText(text: string): Record<string, unknown> {
  return parse(text) as Record<string, unknown>;
}

/** Read a vault file as a plain object. */
export async function readVaultDoc(path: string): Promise<Record<string, unknown>> {
  return parseVaultText(await Deno.readTextFile(path));
}

/** Get a dotted path from a parsed vault (undefined when any part is missing). */
export function at(doc: unknown, path: string): unknown {
  let node = doc;
  for (const part of path.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
