/**
 * The vault as plain data (`VaultDocument.tree()`), for the read-back commands: lookups
 * by dotted path and a walk over every leaf.
 *
 * @module
 */

/** A vault namespace as plain data. */
export type VaultTree = { [key: string]: unknown };

/** A leaf of the vault: its dotted path segments and its value. */
export interface VaultLeaf {
  /** Path segments. */
  path: string[];
  /** The value (string, number or boolean). */
  value: string | number | boolean;
}

/** Whether a value is a namespace (a plain mapping). */
export function isTree(value: unknown): value is VaultTree {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** The value at a dotted path (a leaf, a subtree, or undefined; null counts as absent). */
export function lookup(tree: VaultTree, path: string): unknown {
  let node: unknown = tree;
  for (const segment of path.split(".")) {
    // Own keys only: `constructor` or `toString` is no vault key.
    if (!isTree(node) || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment];
  }
  return node ?? undefined;
}

/** Text of a leaf as the commands print it. */
export function leafText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/**
 * Every leaf below `node`, sorted by path. Lists count as leaves holding their JSON text;
 * null values are skipped.
 */
export function leaves(node: unknown, base: readonly string[] = []): VaultLeaf[] {
  const out: VaultLeaf[] = [];
  const walk = (value: unknown, path: string[]) => {
    if (value === null || value === undefined) return;
    if (isTree(value)) {
      for (const key of Object.keys(value).sort()) walk(value[key], [...path, key]);
      return;
    }
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      out.push({ path, value });
    } else if (Array.isArray(value)) {
      out.push({ path, value: JSON.stringify(value) });
    } else {
      out.push({ path, value: leafText(value) });
    }
  };
  walk(node, [...base]);
  return out;
}

/**
 * Call `visit` with the dotted key of every leaf below `node`, in the order of `leaves()`
 * (keys sorted at each level, null values skipped, lists and dates counted as leaves),
 * without building a leaf object and path array per key (100,000 of them are tens of MB).
 */
export function forEachLeafKey(node: unknown, visit: (key: string) => void, base?: string): void {
  if (node === null || node === undefined) return;
  if (!isTree(node)) {
    visit(base ?? "");
    return;
  }
  for (const key of Object.keys(node).sort()) {
    forEachLeafKey(node[key], visit, base === undefined ? key : `${base}.${key}`);
  }
}
