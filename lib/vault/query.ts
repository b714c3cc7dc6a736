/**
 * Reading values out of a parsed vault by dotted path.
 *
 * @module
 */

import type { Document } from "./yaml.ts";

/**
 * The value at a dotted path: a scalar, a plain object for a namespace, or undefined.
 *
 * @example
 * ```ts
 * import { parseDocument } from "./yaml.ts";
 * getIn(parseDocument("AWS:\n  DEFAULT:\n    S3_KEY: k\n"), "AWS.DEFAULT.S3_KEY"); // "k"
 * ```
 */
export function getIn(doc: Document, path: string): unknown {
  let node: unknown = doc.toJS({ maxAliasCount: -1 });
  for (const segment of path.split(".")) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node ?? undefined;
}
