/**
 * Merging vault entries into the vault document: conflict checks within the fetched set
 * and against the existing vault, the added/changed/unchanged plan, and the in-place
 * update that keeps comments and unrelated content.
 *
 * @module
 */

import { type Document, isMap, isScalar, type Node, Pair, Scalar, YAMLMap } from "./yaml.ts";
import { ToolError } from "../kit/errors.ts";
import type { VaultEntry } from "../contract/provider.ts";

/** Which keys a merge adds, changes and leaves as they are (dotted paths, sorted). */
export interface MergePlan {
  /** Keys not in the vault yet. */
  added: string[];
  /** Keys whose value changes. */
  changed: string[];
  /** Keys already holding the fetched value. */
  unchanged: string[];
}

const dotted = (path: readonly string[]): string => path.join(".");

/**
 * Sort entries by path and check them against each other: two secrets mapping to one key,
 * or a key that is a value in one secret and a namespace in another, are errors naming
 * both. Returns the sorted entries.
 */
export function checkEntries(entries: readonly VaultEntry[]): VaultEntry[] {
  // Keys computed once (not in the comparator): O(n log n) comparisons of ready strings.
  const keyed = entries.map((entry) => ({ entry, key: dotted(entry.path) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key));
  const sorted = keyed.map((item) => item.entry);
  const leaves = new Map<string, VaultEntry>();
  for (const { entry, key } of keyed) {
    const twin = leaves.get(key);
    if (twin) {
      throw new ToolError(
        "conflict",
        `secrets "${twin.source}" and "${entry.source}" both map to the vault key "${key}"; rename one of them`,
      );
    }
    leaves.set(key, entry);
  }
  for (const { entry, key } of keyed) {
    let prefix = "";
    for (let i = 0; i < entry.path.length - 1; i++) {
      prefix = i === 0 ? entry.path[0] : `${prefix}.${entry.path[i]}`;
      const holder = leaves.get(prefix);
      if (holder) {
        throw new ToolError(
          "conflict",
          `vault key "${prefix}" (from secret "${holder.source}") would be both a value and the namespace of "${key}" (from secret "${entry.source}"); a key cannot be both`,
        );
      }
    }
  }
  return sorted;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Finds pairs by key in O(1): each map's items are indexed on first use (the first pair
 * wins for a duplicated key, as a linear scan would). One index lives for one merge
 * step; {@linkcode Pairs.add} keeps it in step with pairs this module appends.
 */
class Pairs {
  #indexes = new WeakMap<YAMLMap, Map<string, Pair>>();

  #index(map: YAMLMap): Map<string, Pair> {
    let index = this.#indexes.get(map);
    if (!index) {
      index = new Map();
      for (const item of map.items) {
        const key = String(isScalar(item.key) ? item.key.value : item.key);
        if (!index.has(key)) index.set(key, item as Pair);
      }
      this.#indexes.set(map, index);
    }
    return index;
  }

  /** The pair of `map` whose key is `segment`. */
  find(map: YAMLMap, segment: string): Pair | undefined {
    return this.#index(map).get(segment);
  }

  /** Append `pair` (keyed `segment`) to `map`. */
  add(map: YAMLMap, segment: string, pair: Pair): void {
    map.items.push(pair);
    const index = this.#index(map);
    if (!index.has(segment)) index.set(segment, pair);
  }
}

function rootMap(doc: Document): YAMLMap | undefined {
  const root = doc.contents;
  if (root === null || root === undefined) return undefined;
  if (isScalar(root) && (root.value === null || root.value === undefined)) return undefined;
  if (isMap(root)) return root;
  throw new ToolError(
    "vault",
    "the vault's top level is not a mapping of keys; fix the vault file",
  );
}

/** Walk the document along `path`: where it ends, and what stands there. */
function locate(doc: Document, path: readonly string[], pairs: Pairs): {
  kind: "absent" | "leaf" | "map" | "blocked";
  node?: Node;
  depth: number;
} {
  let map = rootMap(doc);
  if (!map) return { kind: "absent", depth: 0 };
  for (let i = 0; i < path.length; i++) {
    const pair = pairs.find(map, path[i]);
    if (!pair) return { kind: "absent", depth: i };
    const value = pair.value as Node | null;
    if (i === path.length - 1) {
      if (isMap(value)) return { kind: "map", node: value, depth: i + 1 };
      return { kind: "leaf", node: value ?? undefined, depth: i + 1 };
    }
    if (!isMap(value)) return { kind: "blocked", node: value ?? undefined, depth: i + 1 };
    map = value;
  }
  return { kind: "map", node: map, depth: path.length };
}

/**
 * Compare sorted, checked entries with the existing vault. A new key below an existing
 * value, or a new value where the vault has a namespace, is an error naming both keys.
 */
export function planMerge(doc: Document, entries: readonly VaultEntry[]): MergePlan {
  const plan: MergePlan = { added: [], changed: [], unchanged: [] };
  const pairs = new Pairs();
  for (const entry of entries) {
    const key = dotted(entry.path);
    const found = locate(doc, entry.path, pairs);
    switch (found.kind) {
      case "absent":
        plan.added.push(key);
        break;
      case "blocked":
        throw new ToolError(
          "conflict",
          `vault key "${
            dotted(entry.path.slice(0, found.depth))
          }" holds a value in the existing vault, so secret "${entry.source}" cannot add "${key}" below it; remove one of them`,
        );
      case "map":
        throw new ToolError(
          "conflict",
          `vault key "${key}" is a namespace in the existing vault, so secret "${entry.source}" cannot store a value there; remove one of them`,
        );
      case "leaf": {
        const node = found.node;
        const same = isScalar(node) && node.value === entry.value;
        (same ? plan.unchanged : plan.changed).push(key);
        break;
      }
    }
  }
  return plan;
}

/** Write checked entries into the document, keeping comments and unrelated keys. */
export function applyMerge(doc: Document, entries: readonly VaultEntry[]): void {
  let root = rootMap(doc);
  if (!root) {
    root = new YAMLMap();
    doc.contents = root;
  }
  const pairs = new Pairs();
  for (const entry of entries) {
    let map = root;
    for (let i = 0; i < entry.path.length - 1; i++) {
      const pair = pairs.find(map, entry.path[i]);
      if (pair && isMap(pair.value)) {
        map = pair.value;
        continue;
      }
      const child = new YAMLMap();
      pairs.add(map, entry.path[i], new Pair(new Scalar(entry.path[i]), child));
      map = child;
    }
    const last = entry.path[entry.path.length - 1];
    // Vault values are strings, numbers and booleans: a plain Scalar is what createNode
    // would build for them (default tags), without its per-call tag lookup.
    const scalar = new Scalar(entry.value);
    const pair = pairs.find(map, last);
    if (pair) {
      const old = pair.value as Node | null;
      if (isScalar(old)) {
        scalar.comment = old.comment;
        scalar.commentBefore = old.commentBefore;
        scalar.spaceBefore = old.spaceBefore;
      }
      pair.value = scalar;
    } else {
      pairs.add(map, last, new Pair(new Scalar(last), scalar));
    }
  }
}
