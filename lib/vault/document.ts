/**
 * A parsed vault, whatever form it was read in: the data it holds, what stands at a key
 * (for planning a merge), the merge itself and the text to write back.
 *
 * A vault in the form this tool writes is read and written without the `yaml` package
 * (`canonical.ts`); any other vault (comments, hand-written layout, anchors) is read with
 * `yaml`, which is loaded only then, and keeps its comments and layout through a merge
 * (`yaml_document.ts`). Both give the same bytes for the same vault and entries.
 *
 * @module
 */

import type { VaultEntry } from "../contract/provider.ts";
import { canonicalDocument } from "./canonical_document.ts";
import { newMapping, parseCanonical } from "./canonical.ts";
import type { VaultTree } from "./tree.ts";

/** What stands at a dotted path of the vault. */
export type Located =
  /** Nothing: the path (from `depth` segments on) is free. */
  | { kind: "absent"; depth: number }
  /** A value after `depth` segments, where the path goes on below it. */
  | { kind: "blocked"; depth: number }
  /** A namespace at the path itself. */
  | { kind: "map"; depth: number }
  /** A value at the path: `scalar` is false for a list or other non-scalar node. */
  | { kind: "leaf"; depth: number; scalar: boolean; value: unknown };

/** A parsed vault (see the module documentation). */
export interface VaultDocument {
  /** `canonical`: read without `yaml`; `yaml`: read (and written) with it. */
  readonly form: "canonical" | "yaml";
  /**
   * The vault's data as plain objects (`{}` when empty). A `vault` error when the vault
   * expands its aliases beyond the limit.
   */
  tree(): VaultTree;
  /**
   * Call `visit` with the dotted key of every leaf, in the order of `leaves()` (keys sorted
   * at each level), without copying the vault.
   */
  forEachLeafKey(visit: (key: string) => void): void;
  /** What stands at `path`. */
  locate(path: readonly string[]): Located;
  /**
   * Write sorted, checked entries in (see `merge.ts`), keeping comments and unrelated keys.
   * Plan first: conflicts with the vault are found by the plan, not here.
   */
  apply(entries: readonly VaultEntry[]): void;
  /** The vault's text: the same document always gives the same bytes. */
  render(): Promise<string>;
}

/**
 * Parse vault text (`""` is an empty vault). Invalid YAML, a key repeated in one mapping,
 * or a top level that is not a mapping is a `vault` error naming `path` and the line.
 *
 * @example
 * ```ts
 * const doc = await parseVault("A:\n  B: x\n", "vault.yml");
 * doc.tree(); // { A: { B: "x" } }
 * ```
 */
export async function parseVault(text: string, path: string): Promise<VaultDocument> {
  const root = text === "" ? newMapping() : parseCanonical(text);
  if (root !== null) return canonicalDocument(root);
  const { parseYamlVault } = await import("./yaml_document.ts");
  return parseYamlVault(text, path);
}
